package dev.kiln.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed pool of daemon threads for the CPU kernels. {@link #parallelFor} splits {@code [0, tasks)} into
 * chunks that the workers and the calling thread claim from a shared counter; it returns when all are done.
 *
 * <pre>{@code pool.parallelFor(tiles, job);  // job: a RangeTask object made once, reused }</pre>
 *
 * A pool belongs to a {@link CpuBackend}, which hands it to the kernels it lowers; kernels take it as a parameter
 * and never reach for a global one.
 *
 * A call allocates nothing: the job is published through volatile fields, workers spin briefly and then park,
 * and the caller waits only for the workers that joined before it ran out of chunks (woken by the last of them). Because one job is in flight at a time, a call that finds the
 * pool busy (a second calling thread, or a nested call from inside a body) runs its whole range inline.
 * {@link #parallelForAffine} hands out the same range to the same thread on every call instead, for kernels that
 * stream the same data on each call (batch-1 GEMVs over a layer's weights): each core then re-reads its own share from
 * its private cache rather than from the shared L3.
 * Default size ({@link #defaultThreads()}): {@code Runtime.availableProcessors()}, or the system property {@code kiln.threads}.
 */
public final class WorkerPool {

    /** A body over a half-open range of task indices; called with disjoint ranges, possibly on several threads. */
    public interface RangeTask {
        void run(int from, int to);
    }

    // Spin this many onSpinWait rounds before parking: back-to-back kernel calls then skip the unpark latency,
    // while an idle pool costs nothing.
    private static final int SPINS = 1 << 12;

    /** Affine calls with more tasks than this run as {@link #parallelFor}: the claim flags are preallocated. */
    static final int MAX_AFFINE_TASKS = 256;

    // An affine call that took longer than LATE_NS, or whose caller waited longer than WAIT_NS for a worker (its
    // tasks take microseconds and finish together on a quiet machine, so a thread lost its core to another
    // process: the worker mid-task, or the caller to a spinning worker), counts the time so lost. When the loss in
    // the current LOSS_WINDOW_NS exceeds 1/LOSS_SHARE of the window so far (of a quarter window at least), the affine calls of the next
    // BACKOFF_NS run on the caller alone and the workers park: on a busy machine a batch-1 step then costs one
    // core's time, not a scheduler quantum per call (measured under load 5 on 2 cores: 2x slower without this).
    // A rate, not one event: at load ~1 on 2 cores, ~0.4% of 1×512×512 calls wait 20+ µs and a few per second take
    // 200+ µs; backing off 100 ms on each such event kept the pool on one thread 99% of the time, while running on
    // two throughout made M1's batch-1 step 1.7x faster (the loss is well under 1% of the time).
    private static final long LATE_NS = 200_000, WAIT_NS = 20_000, BACKOFF_NS = 100_000_000;
    private static final long LOSS_WINDOW_NS = 100_000_000, LOSS_SHARE = 20;

    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger();

    // the job in flight, published by the volatile writes of closed and generation
    private RangeTask body;
    private int tasks;
    private int grain;
    private boolean affine;
    // affine claims: task i is taken in job s once claims[i] == s (stamps only grow, so no reset between jobs)
    private final AtomicIntegerArray claims = new AtomicIntegerArray(MAX_AFFINE_TASKS);
    private int stamp;
    private long backoffUntil;
    // time lost to late workers (or a descheduled caller) in the window that began at lossWindowStart
    private long lost, lossWindowStart;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile int generation;
    // A worker touches the job only while counted in `active` and after reading `closed` false; the caller closes
    // the job once it runs out of chunks and waits only for the workers counted then. A worker that wakes late
    // (parked, or its core lent to another process) finds the job closed and leaves: the caller never waits for
    // a wake-up when it did all the work itself, which a batch-1 step or a 10 µs elementwise op would pay each call.
    private volatile boolean closed = true;

    /** A pool of {@code threads} threads in all, counting the caller: {@code threads - 1} workers are started. */
    public WorkerPool(int threads) { this(threads, "kiln-cpu"); }

    /** As {@link #WorkerPool(int)}, the workers named {@code name-1}, {@code name-2}, ... (thread dumps, tests). */
    public WorkerPool(int threads, String name) {
        if (threads < 1) throw new IllegalArgumentException("a worker pool needs at least 1 thread, got " + threads);
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(name + "-" + (i + 1), i + 1);
            workers[i].start();
        }
    }

    /** Threads of a pool made for this process by default: {@code -Dkiln.threads=N}, else the available processors. */
    public static int defaultThreads() { return threadsFromProperty(); }

    /** Threads that work on one call, the caller included. */
    public int threads() { return workers.length + 1; }

    /** Runs {@code body} over {@code [0, tasks)} in chunks and returns when every chunk is done. */
    public void parallelFor(int tasks, RangeTask body) {
        run(tasks, body, false);
    }

    /**
     * As {@link #parallelFor}, but task ranges are fixed per thread: thread t (the caller is 0, worker i is i)
     * owns tasks {@code [t·tasks/threads, (t+1)·tasks/threads)} and runs them one by one, in order, on every call.
     * Tasks are claimed one at a time, so the caller, once done with its own, takes (from the end) the tasks of a
     * worker that has not reached them yet: a descheduled worker never holds the call up for more than the task
     * it is in. Workers do not take the caller's tasks (it is running: it called), only each other's.
     * After a call that a busy machine made late, the calls of the next 100 ms run on the caller alone.
     */
    public void parallelForAffine(int tasks, RangeTask body) {
        run(tasks, body, tasks <= MAX_AFFINE_TASKS);
    }

    private void run(int tasks, RangeTask body, boolean affine) {
        if (tasks <= 0) return;
        if (tasks == 1 || workers.length == 0 || !busy.compareAndSet(false, true)) {
            body.run(0, tasks);
            return;
        }
        if (affine && backoffUntil - System.nanoTime() > 0) {
            try {
                body.run(0, tasks);
            } finally {
                busy.set(false);
            }
            return;
        }
        long start = affine ? System.nanoTime() : 0;
        try {
            this.body = body;
            this.tasks = tasks;
            // about four chunks per thread: enough to even out uneven tiles, few enough to keep claims cheap
            this.grain = Math.max(1, tasks / (4 * threads()));
            this.affine = affine;
            this.failure = null;
            next.set(0);
            caller = Thread.currentThread();
            // written before `closed`: a worker that reads closed == false reads this job's stamp
            stamp = generation + 1;
            closed = false;
            generation = generation + 1;
            for (Worker w : workers) LockSupport.unpark(w);
            try {
                if (affine) runAffine(0, stamp);
                else runChunks();
            } catch (Throwable t) {
                // wait for the workers anyway: returning early would let the next job reuse fields they still read
                if (failure == null) failure = t;
                next.set(Integer.MAX_VALUE / 2);
                claimAll();
            }
            closed = true;
            int spins = 0;
            long waitStart = affine && active.get() != 0 ? System.nanoTime() : 0;
            while (active.get() != 0) {
                if (spins++ < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (affine) {
                long now = System.nanoTime();
                long loss = now - start > LATE_NS ? now - start : waitStart != 0 && now - waitStart > WAIT_NS ? now - waitStart : 0;
                if (now - lossWindowStart > LOSS_WINDOW_NS) { lossWindowStart = now; lost = 0; }
                if (loss > 0) {
                    lost += loss;
                    // early in a window, judge against a quarter window: one 20-50 µs wait is no reason to back off
                    if (lost * LOSS_SHARE > Math.max(now - lossWindowStart, LOSS_WINDOW_NS / 4)) {
                        backoffUntil = now + BACKOFF_NS;
                        lossWindowStart = now + BACKOFF_NS;
                        lost = 0;
                    }
                }
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

    // Own tasks first, in order; then, from the end, the unclaimed tasks of the other workers (never the
    // caller's: it is running them).
    private void runAffine(int self, int s) {
        RangeTask b = body;
        int n = tasks, t = threads();
        for (int i = self * n / t, hi = (self + 1) * n / t; i < hi; i++) {
            if (claim(i, s)) b.run(i, i + 1);
        }
        for (int d = 1; d < t; d++) {
            int o = (self + d) % t;
            if (o == 0) continue;
            for (int i = (o + 1) * n / t - 1, lo = o * n / t; i >= lo; i--) {
                if (claim(i, s)) b.run(i, i + 1);
            }
        }
    }

    private boolean claim(int i, int s) {
        int v = claims.get(i);
        return v != s && claims.compareAndSet(i, v, s);
    }

    // after a failure: the others stop claiming (the caller rethrows)
    private void claimAll() {
        int s = stamp;
        for (int i = 0, n = Math.min(tasks, MAX_AFFINE_TASKS); i < n; i++) claims.set(i, s);
    }

    private final class Worker extends Thread {
        private final int index;

        Worker(String name, int index) {
            super(name);
            this.index = index;
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
                takePart();
            }
        }

        // Out of the endless loop above on purpose: C2 compiles that loop on-stack once, with the profile of the
        // jobs seen so far; a job of the other kind (affine after chunked, or back) would then deoptimise it and
        // leave the worker in the interpreter. A method of its own is recompiled like any other.
        private void takePart() {
            active.incrementAndGet();
            if (!closed) {
                try {
                    if (affine) runAffine(index, stamp);
                    else runChunks();
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                    next.set(Integer.MAX_VALUE / 2); // the others stop claiming; the caller rethrows
                    claimAll();
                }
            }
            if (active.decrementAndGet() == 0) LockSupport.unpark(caller);
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
