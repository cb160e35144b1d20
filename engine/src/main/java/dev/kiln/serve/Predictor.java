package dev.kiln.serve;

import dev.kiln.backend.Executable;
import dev.kiln.nn.Model;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Thread-safe inference for a service: one model, any number of caller threads.
 *
 * <p>Each call borrows a compiled inference program ({@link Model#newPredictionProgram}: the same programs
 * {@code model.predict} runs) from a pool; at most {@code concurrency} calls run at once, the rest wait their turn.
 * Programs are compiled per batch-size bucket, the powers of two up to {@code maxBatch}: a call of 5 rows runs the
 * 8-row program with its last 3 rows zero (padding) and returns 5 rows; a call of more than {@code maxBatch} rows
 * runs in chunks. A program is compiled on the first call that needs it and reused after, so a warm predictor
 * allocates nothing per call when the caller passes its own output array. Rows are independent and each bucket
 * runs one fixed program, so a row's result is the same bit for bit whichever thread asks, and however many at once.
 *
 * <p>Errors are the caller's alone: a wrong input length or a NaN throws {@link IllegalArgumentException} naming
 * the row and column, and the predictor keeps serving every other caller.
 *
 * <pre>{@code
 * try (Predictor p = Predictor.load(Path.of("model.kiln"))) {
 *     float[] y = p.predict(x);                // x: rows × inputSize values, row-major
 *     p.predict(x, rows, out);                 // into the caller's array: no allocation once warm
 * }
 * }</pre>
 *
 * <p>{@link #close} waits for the calls in flight, then frees every program's memory. A predictor dropped without
 * close is freed by a {@link Cleaner}, which logs the leak.
 */
public final class Predictor implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Predictor.class.getName());
    private static final Cleaner CLEANER = Cleaner.create();
    /** The largest bucket unless given: bigger calls run in chunks of this many rows. */
    public static final int DEFAULT_MAX_BATCH = 64;

    private final Model model;
    private final String name;
    private final int inputSize, outputSize, maxBatch, concurrency;
    private final Semaphore permits;
    private final Pools pools;
    private final Cleaner.Cleanable cleanable;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A compiled program of one bucket and its padding buffers. Used by one caller at a time. */
    private record Slot(Executable program, int inputSlot, float[] paddedIn, float[] paddedOut) {}

    /** The idle programs of one bucket: at most `concurrency` exist (one per call in flight), so a fixed array of them. */
    private static final class Shelf {
        private final AtomicReferenceArray<Slot> slots;
        Shelf(int capacity) { slots = new AtomicReferenceArray<>(capacity); }
        Slot take() {
            for (int i = 0; i < slots.length(); i++) {
                Slot s = slots.get(i);
                if (s != null && slots.compareAndSet(i, s, null)) return s;
            }
            return null;
        }
        void put(Slot s) {
            for (int i = 0; i < slots.length(); i++) if (slots.get(i) == null && slots.compareAndSet(i, null, s)) return;
            throw new IllegalStateException("more programs than calls in flight; a bug in Predictor");
        }
        int count() {
            int n = 0;
            for (int i = 0; i < slots.length(); i++) if (slots.get(i) != null) n++;
            return n;
        }
    }

    /** The idle programs of each bucket; the Cleaner's state, so it must not reach the Predictor. */
    private static final class Pools implements Runnable {
        final List<Shelf> idle = new ArrayList<>();
        final String name;
        volatile boolean closedProperly;
        Pools(int buckets, int concurrency, String name) {
            this.name = name;
            for (int i = 0; i < buckets; i++) idle.add(new Shelf(concurrency));
        }
        void closeAll() {
            for (Shelf q : idle) for (Slot s; (s = q.take()) != null; ) s.program().close();
        }
        @Override public void run() {
            if (!closedProperly) {
                LOG.log(System.Logger.Level.WARNING, "Predictor of model '" + name + "' was never closed; freed its programs now. Close it (try-with-resources) to free memory when you choose");
                closeAll();
            }
        }
    }

    private Predictor(Model model, int concurrency, int maxBatch) {
        if (model.inputs().size() != 1 || model.outputs().size() != 1) {
            throw new IllegalArgumentException("Predictor serves models of one input and one output; model '" + model.name() + "' has "
                    + model.inputs().size() + " inputs and " + model.outputs().size() + " outputs");
        }
        if (concurrency < 1) throw new IllegalArgumentException("Predictor: concurrency must be >= 1, got " + concurrency);
        if (maxBatch < 1 || Integer.bitCount(maxBatch) != 1) throw new IllegalArgumentException("Predictor: maxBatch must be a power of two >= 1, got " + maxBatch);
        this.model = model.build();
        this.name = model.name();
        this.inputSize = model.inputShape(0).size();
        this.outputSize = model.outputShape(0).size();
        this.maxBatch = maxBatch;
        this.concurrency = concurrency;
        this.permits = new Semaphore(concurrency, true);
        this.pools = new Pools(Integer.numberOfTrailingZeros(maxBatch) + 1, concurrency, name);
        this.cleanable = CLEANER.register(this, pools);
    }

    /** A predictor of {@code model} for up to as many concurrent calls as there are processors, buckets up to 64 rows. */
    public static Predictor of(Model model) { return of(model, Runtime.getRuntime().availableProcessors(), DEFAULT_MAX_BATCH); }

    /**
     * A predictor of {@code model}: at most {@code concurrency} calls run at once (each on its own program; more
     * wait), batches up to {@code maxBatch} rows (a power of two) run in one program. The model's weights are read in
     * place: change them only while no call runs.
     */
    public static Predictor of(Model model, int concurrency, int maxBatch) { return new Predictor(model, concurrency, maxBatch); }

    /** A predictor of the model saved at {@code file} ({@link Model#save}); a corrupt or truncated file throws naming it. */
    public static Predictor load(Path file) throws IOException { return of(Model.load(file)); }

    public int inputSize() { return inputSize; }
    public int outputSize() { return outputSize; }
    public int maxBatch() { return maxBatch; }
    public int concurrency() { return concurrency; }
    public Model model() { return model; }

    /** Predictions for {@code x.length / inputSize()} rows, a new array of rows × outputSize() values. */
    public float[] predict(float[] x) {
        if (x == null || x.length == 0 || x.length % inputSize != 0) {
            throw new IllegalArgumentException("Predictor of model '" + name + "': input has " + (x == null ? "no" : x.length) + " values, not a whole number of rows of "
                    + inputSize + " (input shape " + model.inputShape(0) + ")");
        }
        int rows = x.length / inputSize;
        float[] out = new float[rows * outputSize];
        predict(x, rows, out);
        return out;
    }

    /**
     * Predictions for the first {@code rows} rows of {@code x} into {@code out} (rows × outputSize() values from index
     * 0); allocates nothing once the programs are warm. Blocks while {@code concurrency} other calls run.
     */
    public void predict(float[] x, int rows, float[] out) {
        check(x, rows, out);
        permits.acquireUninterruptibly();
        try {
            if (closed.get()) throw new IllegalStateException("Predictor of model '" + name + "' is closed");
            for (int start = 0; start < rows; start += maxBatch) runChunk(x, start, Math.min(maxBatch, rows - start), out);
        } finally {
            permits.release();
        }
    }

    private void runChunk(float[] x, int start, int n, float[] out) {
        int bucket = Integer.numberOfTrailingZeros(Integer.highestOneBit(n)) + (Integer.bitCount(n) == 1 ? 0 : 1);
        int b = 1 << bucket;
        Slot s = pools.idle.get(bucket).take();
        if (s == null) s = compile(b);
        try {
            if (n == b) {
                s.program().setInput(s.inputSlot(), x, start * inputSize, b * inputSize);
            } else {
                System.arraycopy(x, start * inputSize, s.paddedIn(), 0, n * inputSize);
                java.util.Arrays.fill(s.paddedIn(), n * inputSize, b * inputSize, 0f);
                s.program().setInput(s.inputSlot(), s.paddedIn(), 0, b * inputSize);
            }
            s.program().run();
            if (n == b) {
                s.program().readOutput(0, out, start * outputSize);
            } else {
                s.program().readOutput(0, s.paddedOut(), 0);
                System.arraycopy(s.paddedOut(), 0, out, start * outputSize, n * outputSize);
            }
        } finally {
            pools.idle.get(bucket).put(s);
        }
    }

    /** Compiles one more program of {@code b} rows; tracing reads the model's layers, so one thread at a time. */
    private Slot compile(int b) {
        synchronized (model) {
            Executable e = model.newPredictionProgram(b);
            int slot = e.program().inputSlot(model.programInputName(0));
            return new Slot(e, slot, new float[b * inputSize], new float[b * outputSize]);
        }
    }

    private void check(float[] x, int rows, float[] out) {
        if (rows < 1) throw new IllegalArgumentException(who() + ": rows must be >= 1, got " + rows);
        if (x == null || x.length < (long) rows * inputSize) {
            throw new IllegalArgumentException(who() + ": " + rows + " rows of input shape " + model.inputShape(0) + " need " + (long) rows * inputSize
                    + " values, the input array has " + (x == null ? "none" : x.length));
        }
        if (out == null || out.length < (long) rows * outputSize) {
            throw new IllegalArgumentException(who() + ": " + rows + " rows of output shape " + model.outputShape(0) + " need " + (long) rows * outputSize
                    + " values, the output array has " + (out == null ? "none" : out.length));
        }
        int count = rows * inputSize;
        for (int i = 0; i < count; i++) {
            if (Float.isNaN(x[i]) || Float.isInfinite(x[i])) {
                throw new IllegalArgumentException(who() + ": input row " + i / inputSize + ", value " + i % inputSize + " is " + x[i]
                        + "; give finite values (fill or drop missing ones before predicting)");
            }
        }
    }

    private String who() { return "Predictor of model '" + name + "'"; }

    /** Waits for the calls in flight, then frees every compiled program. Later calls throw. Idempotent. */
    @Override public void close() {
        if (!closed.compareAndSet(false, true)) return;
        permits.acquireUninterruptibly(concurrency);
        try {
            pools.closedProperly = true;
            pools.closeAll();
            cleanable.clean();
        } finally {
            permits.release(concurrency);
        }
    }

    /** The compiled programs now held, per bucket size (rows -> count): what the pool grew to. */
    public java.util.Map<Integer, Integer> programs() {
        java.util.Map<Integer, Integer> m = new java.util.TreeMap<>();
        for (int i = 0; i < pools.idle.size(); i++) if (pools.idle.get(i).count() > 0) m.put(1 << i, pools.idle.get(i).count());
        return m;
    }
}
