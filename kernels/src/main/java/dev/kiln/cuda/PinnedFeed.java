package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.backend.InputFeed;
import dev.kiln.cuda.ffi.CudaDriver;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Batches into a compiled step's inputs through pinned host buffers, prefetched: a background thread
 * fills the next batch into a free set of page-locked buffers ({@link CudaDriver#memHostAlloc}) while the
 * device runs the current step; {@link #next()} copies a filled set asynchronously into the step's fixed
 * device inputs on the step's stream (so the copy is ordered before the step's kernels or graph) and
 * records an event. A set is handed back to the filler only once the event of its copy has passed, so a
 * buffer is never rewritten while a copy reads it. {@code depth} sets (2: double buffering); the filler
 * runs at most {@code depth} batches ahead. All driver calls are made on the caller's thread (the one
 * that holds the CUDA context); the filler thread only writes host memory.
 *
 * <p>The CUDA backend's {@link InputFeed}: {@code Model.fit} feeds its full batches through it (the executable's
 * {@code prefetch}, with a {@code dev.kiln.train.LoaderSource} over its data Loader).
 */
public final class PinnedFeed implements InputFeed {

    private static final int END = -1;

    private final CudaExecutable step;
    private final CudaDriver driver;
    private final long[] device, bytes;
    private final MemorySegment[][] sets;   // [set][input]
    private final long[] copied;             // an event per set
    private final BlockingQueue<Integer> free, filled;
    private final Thread filler;
    private volatile Throwable failure;
    private int inFlight = END;
    private boolean done, closed;

    public PinnedFeed(Executable step, int[] slots, int depth, InputFeed.Source source) {
        if (depth < 1) throw new IllegalArgumentException("PinnedFeed: depth must be >= 1 buffer set, got " + depth);
        if (!(step instanceof CudaExecutable c)) {
            throw new IllegalArgumentException("PinnedFeed needs an executable of the CUDA backend, got " + step.getClass().getName());
        }
        this.step = c;
        this.driver = c.device().driver();
        this.device = new long[slots.length];
        this.bytes = new long[slots.length];
        for (int i = 0; i < slots.length; i++) {
            device[i] = c.inputAddress(slots[i]);
            bytes[i] = 4L * c.program().inputs().get(slots[i]).shape().size();
        }
        this.sets = new MemorySegment[depth][slots.length];
        this.copied = new long[depth];
        this.free = new ArrayBlockingQueue<>(depth);
        this.filled = new ArrayBlockingQueue<>(depth + 1);
        for (int s = 0; s < depth; s++) {
            for (int i = 0; i < slots.length; i++) sets[s][i] = driver.memHostAlloc(bytes[i]);
            copied[s] = driver.eventCreate();
            free.add(s);
        }
        this.filler = Thread.ofPlatform().daemon().name("kiln-pinned-feed").start(() -> fill(source));
    }

    private void fill(InputFeed.Source source) {
        try {
            while (true) {
                int s = free.take();
                if (!source.fill(sets[s])) break;
                filled.put(s);
            }
        } catch (InterruptedException stop) {
            return;
        } catch (Throwable t) {
            failure = t;
        }
        filled.add(END);
    }

    /**
     * Waits for the next filled set and copies it, asynchronously on the step's stream, into the step's inputs;
     * then hands the previous set back to the filler once its copy has passed. False when the source is done.
     */
    @Override public boolean next() {
        if (closed) throw new IllegalStateException("this PinnedFeed is closed");
        if (done) return false;
        int s;
        try {
            s = filled.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the pinned feed's next batch", e);
        }
        if (s == END) {
            done = true;
            release();
            if (failure != null) throw new IllegalStateException("the pinned feed's source failed: " + failure, failure);
            return false;
        }
        long stream = step.stream();
        for (int i = 0; i < device.length; i++) driver.memcpyHtoDAsync(device[i], sets[s][i], bytes[i], stream);
        driver.eventRecord(copied[s], stream);
        release();
        inFlight = s;
        return true;
    }

    /**
     * The pinned buffer of input {@code i} (in slot order) of the set the last {@link #next()} copied: the host may
     * read it (a copy only reads it too) until the next call. Throws when no set is current.
     */
    @Override public MemorySegment current(int i) {
        if (closed || inFlight == END) throw new IllegalStateException("no pinned batch is current: call next() first (and only while it returns true)");
        return sets[inFlight][i];
    }

    /** The set copied by the previous {@link #next()} goes back to the filler once its copy has passed. */
    private void release() {
        if (inFlight == END) return;
        driver.eventSynchronize(copied[inFlight]);
        free.add(inFlight);
        inFlight = END;
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        filler.interrupt();
        try {
            filler.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        driver.streamSynchronize(step.stream());
        for (int s = 0; s < sets.length; s++) {
            for (MemorySegment m : sets[s]) driver.memFreeHost(m);
            driver.eventDestroy(copied[s]);
        }
    }
}
