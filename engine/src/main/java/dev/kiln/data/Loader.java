package dev.kiln.data;

import dev.kiln.tensor.Shape;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.function.IntConsumer;

/**
 * Iterates the mini-batches of a {@link Batches} plan, epoch by epoch, into reused buffers: in the
 * steady state nothing is allocated per batch. With prefetch, one daemon thread fills the next
 * batch into a second buffer while the caller uses the current one (double buffering); an error
 * on that thread is rethrown to the caller by {@link #next()}, and {@link #close()} stops it.
 *
 * <p>A returned {@link Batch} stays valid until the next call to {@code next}. Not thread-safe:
 * one consumer.
 */
public final class Loader implements AutoCloseable {
    private static final Batch END = Batch.marker();
    private static final Batch FAIL = Batch.marker();

    private final Batches plan;
    private final Filler filler;          // used by the caller's thread when not prefetching
    private final Batch own;              // the single buffer when not prefetching
    private final Batch[] buffers;        // the two buffers when prefetching
    private final IntConsumer beforeFill;
    private final float[][] callerX = new float[1][], callerY = new float[1][]; // next(float[], float[]) fills the caller's arrays through these

    // Consumer state.
    private int epoch = -1;
    private int nextIndex;
    private boolean epochDone = true;
    private boolean closed;

    // Prefetch state.
    private Thread worker;
    private volatile boolean stopping;
    private volatile Throwable failure;
    private ArrayBlockingQueue<Batch> full;
    private ArrayBlockingQueue<Batch> free;
    private Batch held;

    Loader(Batches plan) { this(plan, null); }

    /** {@code beforeFill} runs before each batch is filled, on the filling thread: a test hook to inject failures. */
    Loader(Batches plan, IntConsumer beforeFill) {
        this.plan = plan;
        this.beforeFill = beforeFill;
        Dataset d = plan.data();
        if (plan.prefetch()) {
            this.filler = null;
            this.own = null;
            this.buffers = new Batch[] {new Batch(plan.batchSize(), d), new Batch(plan.batchSize(), d)};
        } else {
            this.filler = new Filler(plan, beforeFill);
            this.own = new Batch(plan.batchSize(), d);
            this.buffers = null;
        }
    }

    public int batchesPerEpoch() { return plan.batchesPerEpoch(); }

    /** Starts (or restarts) iteration over {@code epoch}; epochs taken in order keep the prefetch thread running across them. */
    public void startEpoch(int epoch) {
        if (closed) throw new IllegalStateException("this loader is closed");
        if (epoch < 0) throw new IllegalArgumentException("epoch " + epoch + " must be >= 0");
        if (plan.prefetch()) {
            boolean continues = worker != null && epochDone && epoch == this.epoch + 1 && failure == null;
            if (!continues) restartWorker(epoch);
            else releaseHeld();
        } else {
            filler.startEpoch(epoch);
        }
        this.epoch = epoch;
        this.nextIndex = 0;
        this.epochDone = false;
    }

    /** The next batch of the current epoch, or null when the epoch is over. */
    public Batch next() {
        if (closed) throw new IllegalStateException("this loader is closed");
        if (epoch < 0) throw new IllegalStateException("call startEpoch(epoch) before next()");
        if (epochDone) return null;
        if (!plan.prefetch()) {
            if (nextIndex == plan.batchesPerEpoch()) { epochDone = true; return null; }
            filler.fill(nextIndex++, own, own.xs, own.ys);
            return own;
        }
        releaseHeld();
        Batch b;
        try {
            b = full.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the prefetch thread", e);
        }
        if (b == FAIL) {
            epochDone = true;
            Throwable t = failure;
            throw new IllegalStateException("background prefetch failed: " + t, t);
        }
        if (b == END) { epochDone = true; return null; }
        held = b;
        nextIndex++;
        return b;
    }

    /**
     * Fills the caller's arrays with the next batch and returns its size, or 0 when the epoch is
     * over. Without prefetch the batch is written straight into them; with prefetch it is copied.
     * For a dataset of one input and one target.
     */
    public int next(float[] features, float[] labels) {
        if (plan.data().inputCount() != 1 || plan.data().targetCount() != 1) {
            throw new IllegalStateException("next(features, labels) fills one input and one target; this dataset has " + plan.data().inputCount()
                    + " inputs and " + plan.data().targetCount() + " targets: use next() and Batch.features(i) / labels(k)");
        }
        int fx = plan.data().featuresPerExample(), fy = plan.data().labelsPerExample();
        if (features.length < plan.batchSize() * fx || labels.length < plan.batchSize() * fy)
            throw new IllegalArgumentException("buffers of " + features.length + " and " + labels.length + " floats are too small for batch size "
                    + plan.batchSize() + " (need " + plan.batchSize() * fx + " and " + plan.batchSize() * fy + ")");
        if (!plan.prefetch()) {
            if (closed) throw new IllegalStateException("this loader is closed");
            if (epoch < 0) throw new IllegalStateException("call startEpoch(epoch) before next()");
            if (epochDone || nextIndex == plan.batchesPerEpoch()) { epochDone = true; return 0; }
            callerX[0] = features;
            callerY[0] = labels;
            return filler.fill(nextIndex++, own, callerX, callerY);
        }
        Batch b = next();
        if (b == null) return 0;
        System.arraycopy(b.xs[0], 0, features, 0, b.size * fx);
        System.arraycopy(b.ys[0], 0, labels, 0, b.size * fy);
        return b.size;
    }

    /** Iterates the batches of {@code epoch}; starts the epoch when the iterator is made. */
    public Iterable<Batch> epoch(int epoch) {
        return () -> {
            startEpoch(epoch);
            return new Iterator<>() {
                // The buffer is reused, so the following batch is fetched only when the caller asks for it.
                private Batch pending;
                private boolean fetched;

                @Override public boolean hasNext() {
                    if (!fetched) { pending = Loader.this.next(); fetched = true; }
                    return pending != null;
                }

                @Override public Batch next() {
                    if (!hasNext()) throw new NoSuchElementException("epoch " + epoch + " is over");
                    fetched = false;
                    return pending;
                }
            };
        };
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        stopWorker();
    }

    private void releaseHeld() {
        if (held != null) {
            // Capacity equals the buffer count, so this never blocks.
            free.add(held);
            held = null;
        }
    }

    private void restartWorker(int firstEpoch) {
        stopWorker();
        failure = null;
        stopping = false;
        // At most two buffers and, per epoch boundary between them, an END marker are queued at once.
        full = new ArrayBlockingQueue<>(8);
        free = new ArrayBlockingQueue<>(buffers.length);
        for (Batch b : buffers) free.add(b);
        held = null;
        Filler f = new Filler(plan, beforeFill);
        ArrayBlockingQueue<Batch> fullQ = full, freeQ = free;
        Thread t = new Thread(() -> produce(f, firstEpoch, fullQ, freeQ), "kiln-prefetch");
        t.setDaemon(true);
        worker = t;
        t.start();
    }

    private void produce(Filler f, int firstEpoch, ArrayBlockingQueue<Batch> fullQ, ArrayBlockingQueue<Batch> freeQ) {
        try {
            for (int e = firstEpoch; !stopping; e++) {
                f.startEpoch(e);
                int n = plan.batchesPerEpoch();
                for (int i = 0; i < n && !stopping; i++) {
                    Batch b = freeQ.take();
                    f.fill(i, b, b.xs, b.ys);
                    fullQ.put(b);
                }
                fullQ.put(END);
            }
        } catch (InterruptedException e) {
            // close() or a restart asked this thread to stop; nobody waits for more batches.
        } catch (Throwable t) {
            failure = t;
            fullQ.offer(FAIL);
        }
    }

    private void stopWorker() {
        Thread t = worker;
        if (t == null) return;
        stopping = true;
        t.interrupt();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        worker = null;
    }

    /** The per-thread state that fills batches: the epoch's permutation and the augmentation generator. */
    private static final class Filler {
        private final Batches plan;
        private final int[] order;
        private final SplitMix rng = new SplitMix(0);
        private final float[] scratch;
        private final Shape fullX, fullY, lastX, lastY;
        private final IntConsumer beforeFill;
        private int epoch;

        Filler(Batches plan, IntConsumer beforeFill) {
            this.plan = plan;
            this.beforeFill = beforeFill;
            Dataset d = plan.data();
            this.order = new int[d.size()];
            this.scratch = plan.augment().isNone() ? new float[0] : new float[d.featuresPerExample()];
            int bs = plan.batchSize(), rest = d.size() % bs;
            // batch shapes are reported for one input and one target; several get null
            boolean single = d.inputCount() == 1, singleY = d.targetCount() == 1;
            this.fullX = single ? d.featureShape().withDim(0, Math.min(bs, d.size())) : null;
            this.fullY = singleY ? d.labelShape().withDim(0, Math.min(bs, d.size())) : null;
            this.lastX = rest == 0 || !single ? fullX : d.featureShape().withDim(0, rest);
            this.lastY = rest == 0 || !singleY ? fullY : d.labelShape().withDim(0, rest);
        }

        void startEpoch(int e) {
            epoch = e;
            if (plan.shuffle()) {
                rng.reseed(SplitMix.key(plan.seed(), e, -1));
                rng.permutation(order);
            } else {
                for (int i = 0; i < order.length; i++) order[i] = i;
            }
        }

        /** Fills batch {@code index} into {@code x} (one array per input) and {@code y} (one per target): the same permuted row in each. */
        int fill(int index, Batch meta, float[][] x, float[][] y) {
            if (beforeFill != null) beforeFill.accept(index);
            Dataset d = plan.data();
            int bs = plan.batchSize();
            int start = index * bs;
            int size = Math.min(bs, d.size() - start);
            for (int i = 0; i < size; i++) d.copyExample(order[start + i], x, y, i);
            if (!plan.augment().isNone()) {
                Shape s = d.featureShape();
                int fx = d.featuresPerExample();
                rng.reseed(SplitMix.key(plan.seed(), epoch, index));
                for (int i = 0; i < size; i++) plan.augment().apply(x[0], i * fx, s.dim(1), s.dim(2), s.dim(3), rng, scratch);
            }
            meta.size = size;
            meta.epoch = epoch;
            meta.index = index;
            boolean whole = size == Math.min(bs, d.size());
            meta.xShape = whole ? fullX : lastX;
            meta.yShape = whole ? fullY : lastY;
            return size;
        }
    }
}
