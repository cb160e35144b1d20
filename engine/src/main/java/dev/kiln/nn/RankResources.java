package dev.kiln.nn;

/**
 * What a data-parallel rank holds besides its replica and steps, bound to a thread (kiln-cuda: its GPU's context,
 * current per thread, and the device memory in it). Rank 0 runs on whichever thread calls {@code fit} or
 * {@code close}, so {@link #enter} binds rank r to the calling thread before each of its pieces of work; {@link #release}
 * frees it when {@link DataParallel} closes, on rank r's thread, after its steps and the communicators.
 *
 * <pre>{@code
 * RankResources gpus = new RankResources() {
 *     public void enter(int rank) { devices[rank].makeCurrent(); }
 *     public void release(int rank) { devices[rank].close(); }
 * };
 * }</pre>
 */
public interface RankResources {
    /** Nothing bound to threads (the CPU): the ranks' replicas and steps are all there is. */
    RankResources NONE = new RankResources() {
        @Override public void enter(int rank) {}
        @Override public void release(int rank) {}
    };

    /** Makes rank {@code rank}'s resources usable from the calling thread (its replica may not be built yet). */
    void enter(int rank);

    /** Frees rank {@code rank}'s resources, on its thread; called once, also after a failed start. */
    void release(int rank);
}
