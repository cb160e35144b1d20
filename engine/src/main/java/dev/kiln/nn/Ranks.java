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
 * context is current per thread) stays bound from building its replica to its last step.
 */
final class Ranks implements AutoCloseable {
    private final ExecutorService[] threads;   // ranks 1..n-1
    private final Future<?>[] pending;

    Ranks(int count) {
        if (count < 1) throw new IllegalArgumentException("data-parallel training needs at least one rank, got " + count);
        this.threads = new ExecutorService[count - 1];
        this.pending = new Future<?>[count - 1];
        for (int r = 1; r < count; r++) {
            String name = "kiln-rank-" + r;
            threads[r - 1] = Executors.newSingleThreadExecutor(task -> {
                Thread t = new Thread(task, name);
                t.setDaemon(true);
                return t;
            });
        }
    }

    int count() { return threads.length + 1; }

    /**
     * Runs {@code work} for every rank at once, each on its rank's thread, and waits for all. The first rank to fail
     * runs {@code onFailure} at once (to release ranks that wait for it), and its error is thrown once all have returned.
     */
    void each(IntConsumer work, Runnable onFailure) {
        AtomicReference<Throwable> first = new AtomicReference<>();
        for (int r = 1; r < count(); r++) {
            int rank = r;
            pending[r - 1] = threads[r - 1].submit(() -> runRank(work, rank, onFailure, first));
        }
        runRank(work, 0, onFailure, first);
        for (int r = 1; r < count(); r++) {
            try {
                pending[r - 1].get();
            } catch (ExecutionException e) {
                first.compareAndSet(null, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                first.compareAndSet(null, e);
            }
        }
        Throwable failed = first.get();
        if (failed instanceof RuntimeException e) throw e;
        if (failed instanceof Error e) throw e;
        if (failed != null) throw new IllegalStateException("a data-parallel rank failed: " + failed, failed);
    }

    private static void runRank(IntConsumer work, int rank, Runnable onFailure, AtomicReference<Throwable> first) {
        try {
            work.accept(rank);
        } catch (RuntimeException | Error e) {
            if (first.compareAndSet(null, e)) onFailure.run();
        }
    }

    @Override public void close() { for (ExecutorService t : threads) t.shutdownNow(); }
}
