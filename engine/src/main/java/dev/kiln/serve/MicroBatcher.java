package dev.kiln.serve;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Coalesces concurrent single-row requests into batches: a service thread per request calls {@link #predict}, one
 * dispatcher thread gathers the rows that arrive within {@code maxWait} of the first (up to the predictor's
 * {@code maxBatch}), runs them as one batch on the {@link Predictor}, and hands each caller its own row of the result.
 *
 * <p>The queue is bounded ({@code queueCapacity} rows), so overload never grows memory: when it is full, a caller
 * either waits for room ({@link Overload#BLOCK}) or is refused at once with {@link RejectedExecutionException}
 * ({@link Overload#REJECT}), as the batcher was made. A row is checked (length, NaN) before it is queued, so one
 * caller's bad row fails that caller alone and never the batch it would have joined.
 *
 * <pre>{@code
 * try (Predictor p = Predictor.load(file);
 *      MicroBatcher b = MicroBatcher.of(p, Duration.ofMillis(1), 1024, MicroBatcher.Overload.REJECT)) {
 *     float[] y = b.predict(row);   // from any number of threads
 * }
 * }</pre>
 */
public final class MicroBatcher implements AutoCloseable {
    /** What a full queue does to a new request. */
    public enum Overload { BLOCK, REJECT }

    private record Request(float[] row, CompletableFuture<float[]> result) {}

    private final Predictor predictor;
    private final long maxWaitNanos;
    private final Overload overload;
    private final ArrayBlockingQueue<Request> queue;
    private final Request[] batch;
    private final float[] x, y;
    private final Thread dispatcher;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicLong batches = new java.util.concurrent.atomic.AtomicLong(), rows = new java.util.concurrent.atomic.AtomicLong();

    private MicroBatcher(Predictor predictor, java.time.Duration maxWait, int queueCapacity, Overload overload, boolean start) {
        if (maxWait.isNegative()) throw new IllegalArgumentException("MicroBatcher: maxWait must be >= 0, got " + maxWait);
        if (queueCapacity < 1) throw new IllegalArgumentException("MicroBatcher: queueCapacity must be >= 1, got " + queueCapacity);
        this.predictor = predictor;
        this.maxWaitNanos = maxWait.toNanos();
        this.overload = overload;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        int max = predictor.maxBatch();
        this.batch = new Request[max];
        this.x = new float[max * predictor.inputSize()];
        this.y = new float[max * predictor.outputSize()];
        this.dispatcher = Thread.ofPlatform().daemon().name("kiln-microbatcher-" + predictor.model().name()).unstarted(this::dispatch);
        if (start) dispatcher.start();
    }

    /** For tests: a batcher whose dispatcher waits for {@link #start}, so its queue fills deterministically. */
    static MicroBatcher unstarted(Predictor predictor, java.time.Duration maxWait, int queueCapacity, Overload overload) {
        return new MicroBatcher(predictor, maxWait, queueCapacity, overload, false);
    }

    void start() { dispatcher.start(); }

    /**
     * A batcher over {@code predictor}: a batch closes {@code maxWait} after its first row arrived or when it holds
     * {@code predictor.maxBatch()} rows; at most {@code queueCapacity} rows wait. The predictor stays the caller's
     * to close, after the batcher.
     */
    public static MicroBatcher of(Predictor predictor, java.time.Duration maxWait, int queueCapacity, Overload overload) {
        return new MicroBatcher(predictor, maxWait, queueCapacity, overload, true);
    }

    /** The prediction for one row (inputSize values), batched with whatever arrives with it. */
    public float[] predict(float[] row) {
        try {
            return submit(row).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a prediction", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Queues one row; the future completes with its prediction, or with the error that batch met. */
    public CompletableFuture<float[]> submit(float[] row) {
        if (row == null || row.length != predictor.inputSize()) {
            throw new IllegalArgumentException("MicroBatcher of model '" + predictor.model().name() + "': a row has " + predictor.inputSize()
                    + " values (input shape " + predictor.model().inputShape(0) + "), got " + (row == null ? "none" : row.length));
        }
        for (int i = 0; i < row.length; i++) {
            if (!Float.isFinite(row[i])) throw new IllegalArgumentException("MicroBatcher of model '" + predictor.model().name() + "': value " + i + " of the row is " + row[i] + "; give finite values");
        }
        if (closed) throw new IllegalStateException("MicroBatcher of model '" + predictor.model().name() + "' is closed");
        Request r = new Request(row, new CompletableFuture<>());
        if (overload == Overload.REJECT) {
            if (!queue.offer(r)) throw new RejectedExecutionException("MicroBatcher of model '" + predictor.model().name() + "': "
                    + queue.size() + " rows already wait (queue capacity); try again later");
        } else {
            try {
                queue.put(r);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for room in the queue", e);
            }
        }
        if (closed && !dispatcher.isAlive()) failLeftovers();   // close() raced this submit
        return r.result();
    }

    /** Rows waiting now. */
    public int queued() { return queue.size(); }
    /** Batches run so far. */
    public long batches() { return batches.get(); }
    /** Rows answered so far; rows() / batches() is the mean batch size. */
    public long rows() { return rows.get(); }

    private void dispatch() {
        int in = predictor.inputSize(), out = predictor.outputSize();
        while (true) {
            int n = 0;
            try {
                Request first = queue.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) { if (closed && queue.isEmpty()) return; continue; }
                batch[n++] = first;
                long deadline = System.nanoTime() + maxWaitNanos;
                while (n < batch.length) {
                    Request r = queue.poll();
                    if (r == null) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) break;
                        r = queue.poll(left, TimeUnit.NANOSECONDS);
                        if (r == null) break;
                    }
                    batch[n++] = r;
                }
                for (int i = 0; i < n; i++) System.arraycopy(batch[i].row(), 0, x, i * in, in);
                predictor.predict(x, n, y);
                batches.incrementAndGet();
                rows.addAndGet(n);
                for (int i = 0; i < n; i++) {
                    float[] row = new float[out];
                    System.arraycopy(y, i * out, row, 0, out);
                    batch[i].result().complete(row);
                }
            } catch (InterruptedException e) {
                for (int i = 0; i < n; i++) batch[i].result().completeExceptionally(e);
                return;
            } catch (RuntimeException e) {
                // e.g. the predictor was closed: the batch's callers get the error; the batcher goes on
                for (int i = 0; i < n; i++) batch[i].result().completeExceptionally(e);
            } finally {
                java.util.Arrays.fill(batch, 0, n, null);
            }
        }
    }

    /** Stops taking rows, answers those already queued, and ends the dispatcher. */
    @Override public void close() {
        closed = true;
        try {
            if (dispatcher.isAlive()) dispatcher.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            dispatcher.interrupt();
        }
        failLeftovers();
    }

    /** Rows queued after the dispatcher's last look (or with no dispatcher started): their callers must not wait forever. */
    private void failLeftovers() {
        for (Request r; (r = queue.poll()) != null; ) r.result().completeExceptionally(new IllegalStateException("MicroBatcher of model '" + predictor.model().name() + "' closed before this row ran"));
    }
}
