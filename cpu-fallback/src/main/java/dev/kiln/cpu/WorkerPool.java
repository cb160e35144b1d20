package dev.kiln.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed pool of daemon threads for the CPU kernels. {@link #parallelFor} splits {@code [0, tasks)} into
 * chunks that the workers and the calling thread claim from a shared counter; it returns when all are done.
 *
 * <pre>{@code WorkerPool.shared().parallelFor(tiles, job);  // job: a RangeTask object made once, reused }</pre>
 *
 * A call allocates nothing: the job is published through volatile fields, workers spin briefly and then park,
 * and the caller waits only for the workers that joined before it ran out of chunks (woken by the last of them). Because one job is in flight at a time, a call that finds the
 * pool busy (a second calling thread, or a nested call from inside a body) runs its whole range inline.
 * Size: {@code Runtime.availableProcessors()}, or the system property {@code kiln.threads}.
 */
public final class WorkerPool {

    /** A body over a half-open range of task indices; called with disjoint ranges, possibly on several threads. */
    public interface RangeTask {
        void run(int from, int to);
    }

    // Spin this many onSpinWait rounds before parking: back-to-back kernel calls then skip the unpark latency,
    // while an idle pool costs nothing.
    private static final int SPINS = 1 << 12;

    private static final WorkerPool SHARED = new WorkerPool(threadsFromProperty());

    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger();

    // the job in flight, published by the volatile writes of closed and generation
    private RangeTask body;
    private int tasks;
    private int grain;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile int generation;
    // A worker touches the job only while counted in `active` and after reading `closed` false; the caller closes
    // the job once it runs out of chunks and waits only for the workers counted then. A worker that wakes late
    // (parked, or its core lent to another process) finds the job closed and leaves: the caller never waits for
    // a wake-up when it did all the work itself, which a batch-1 step or a 10 µs elementwise op would pay each call.
    private volatile boolean closed = true;

    /** A pool of {@code threads} threads in all, counting the caller: {@code threads - 1} workers are started. */
    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("a worker pool needs at least 1 thread, got " + threads);
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker("kiln-cpu-" + (i + 1));
            workers[i].start();
        }
    }

    /** The pool every kernel uses unless it is given another. */
    public static WorkerPool shared() { return SHARED; }

    /** Threads that work on one call, the caller included. */
    public int threads() { return workers.length + 1; }

    /** Runs {@code body} over {@code [0, tasks)} in chunks and returns when every chunk is done. */
    public void parallelFor(int tasks, RangeTask body) {
        if (tasks <= 0) return;
        if (tasks == 1 || workers.length == 0 || !busy.compareAndSet(false, true)) {
            body.run(0, tasks);
            return;
        }
        try {
            this.body = body;
            this.tasks = tasks;
            // about four chunks per thread: enough to even out uneven tiles, few enough to keep claims cheap
            this.grain = Math.max(1, tasks / (4 * threads()));
            this.failure = null;
            next.set(0);
            caller = Thread.currentThread();
            closed = false;
            generation = generation + 1;
            for (Worker w : workers) LockSupport.unpark(w);
            try {
                runChunks();
            } catch (Throwable t) {
                // wait for the workers anyway: returning early would let the next job reuse fields they still read
                if (failure == null) failure = t;
                next.set(Integer.MAX_VALUE / 2);
            }
            closed = true;
            int spins = 0;
            while (active.get() != 0) {
                if (spins++ < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            Throwable t = failure;
            if (t != null) {
                failure = null;
                if (t instanceof RuntimeException r) throw r;
                if (t instanceof Error e) throw e;
                throw new IllegalStateException("a parallelFor body failed", t);
            }
        } finally {
            this.body = null;
            busy.set(false);
        }
    }

    private void runChunks() {
        RangeTask b = body;
        int n = tasks, g = grain;
        for (int from = next.getAndAdd(g); from < n; from = next.getAndAdd(g)) {
            b.run(from, Math.min(n, from + g));
        }
    }

    private final class Worker extends Thread {
        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override public void run() {
            int seen = 0;
            while (true) {
                int spins = 0, g;
                while ((g = generation) == seen) {
                    if (spins++ < SPINS) Thread.onSpinWait();
                    else LockSupport.park(WorkerPool.this);
                }
                seen = g;
                active.incrementAndGet();
                if (!closed) {
                    try {
                        runChunks();
                    } catch (Throwable t) {
                        if (failure == null) failure = t;
                        next.set(Integer.MAX_VALUE / 2); // the others stop claiming; the caller rethrows
                    }
                }
                if (active.decrementAndGet() == 0) LockSupport.unpark(caller);
            }
        }
    }

    private static int threadsFromProperty() {
        String p = System.getProperty("kiln.threads");
        if (p == null || p.isBlank()) return Runtime.getRuntime().availableProcessors();
        try {
            int t = Integer.parseInt(p.trim());
            if (t < 1) throw new IllegalArgumentException("system property kiln.threads must be >= 1, got " + p);
            return t;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property kiln.threads must be an integer, got '" + p + "'", e);
        }
    }
}
