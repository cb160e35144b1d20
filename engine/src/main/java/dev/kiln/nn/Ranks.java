package dev.kiln.nn;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The threads of data-parallel ranks in one process: rank 0 runs on the thread that calls {@link #each}, and every
 * other rank on a thread of its own for the ranks' whole life, so whatever a rank binds to its thread (a CUDA
 * context is current per thread) stays bound from building its replica to its last step. Rank 0's thread is whichever
 * calls (a fit from another thread than the one that started the ranks), so {@code enter} binds rank r's resources to
 * the current thread before each of rank r's pieces of work (kiln-cuda: makes the rank's GPU context current).
 */
final class Ranks implements AutoCloseable {
    private final ExecutorService[] threads;   // ranks 1..n-1
    private final Thread[] workers;            // their threads, once started
    private final Future<?>[] pending;
    private final IntConsumer enter;

    Ranks(int count, IntConsumer enter) {
        if (count < 1) throw new IllegalArgumentException("data-parallel training needs at least one rank, got " + count);
        this.enter = enter;
        this.threads = new ExecutorService[count - 1];
        this.workers = new Thread[count - 1];
        this.pending = new Future<?>[count - 1];
        for (int r = 1; r < count; r++) {
            String name = "kiln-rank-" + r;
            int at = r - 1;
            threads[at] = Executors.newSingleThreadExecutor(task -> {
                Thread t = new Thread(task, name);
                t.setDaemon(true);
                workers[at] = t;
                return t;
            });
        }
    }

    int count() { return threads.length + 1; }

    /** Binds rank 0's resources to the calling thread (before it evaluates or reads rank 0's replica outside {@link #each}). */
    void enterLead() { enter.accept(0); }

    /**
     * Runs {@code work} for every rank at once, each on its rank's thread, and waits for all. The first rank to fail
     * runs {@code onFailure} at once (to release ranks that wait for it), and its error is thrown once all have returned.
     * An interrupt of the calling thread during the call counts as a failure (onFailure runs), and the ranks are still
     * waited for: none is left running into what the caller does next; the interrupt flag is set again on return (as
     * is one from before the call, which does not count as a failure).
     */
    void each(IntConsumer work, Runnable onFailure) {
        // an interrupt from before this call (a fit interrupted earlier, then close) is kept for the caller, not taken
        // as this call's failure: the cleanup still runs on every rank
        boolean interruptedBefore = Thread.interrupted();
        AtomicReference<Throwable> first = new AtomicReference<>();
        for (int r = 1; r < count(); r++) {
            int rank = r;
            pending[r - 1] = threads[r - 1].submit(() -> runRank(work, rank, onFailure, first));
        }
        runRank(work, 0, onFailure, first);
        // an interrupt that arrived while rank 0 worked (NCCL and device waits do not look at it) counts as one too
        boolean interrupted = Thread.interrupted();
        if (interrupted && first.compareAndSet(null, interruptedFailure(null))) onFailure.run();
        for (int r = 1; r < count(); r++) {
            while (true) {
                try {
                    pending[r - 1].get();
                    break;
                } catch (ExecutionException e) {
                    if (first.compareAndSet(null, e.getCause())) onFailure.run();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                    if (first.compareAndSet(null, interruptedFailure(e))) onFailure.run();
                }
            }
        }
        if (interrupted || interruptedBefore) Thread.currentThread().interrupt();
        Throwable failed = first.get();
        if (failed instanceof RuntimeException e) throw e;
        if (failed instanceof Error e) throw e;
        if (failed != null) throw new IllegalStateException("a data-parallel rank failed: " + failed, failed);
    }

    private static IllegalStateException interruptedFailure(InterruptedException cause) {
        return new IllegalStateException("the thread running data-parallel training was interrupted; the ranks were stopped", cause);
    }

    private void runRank(IntConsumer work, int rank, Runnable onFailure, AtomicReference<Throwable> first) {
        try {
            enter.accept(rank);
            work.accept(rank);
        } catch (RuntimeException | Error e) {
            if (first.compareAndSet(null, e)) onFailure.run();
        }
    }

    /**
     * Stops the ranks' threads and waits until they have ended, so that nothing a rank runs outlives what the caller
     * closes next (communicators, devices). {@link #each} returns only once every rank has, so they are idle here
     * unless another thread is in {@code each}; an interrupt does not cut the wait short (the flag is set again).
     */
    @Override public void close() {
        for (ExecutorService t : threads) t.shutdownNow();
        boolean interrupted = false;
        for (Thread t : workers) {
            while (t != null && t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
