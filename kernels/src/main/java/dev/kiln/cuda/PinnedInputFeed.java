package dev.kiln.cuda;

import dev.kiln.backend.InputFeed;
import dev.kiln.data.Batch;
import dev.kiln.data.Loader;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The CUDA backend's {@link InputFeed}: one epoch of a {@link Loader} through a {@link PinnedFeed} of two buffer
 * sets ({@link LoaderSource} on its thread), so that {@code Model.fit} queues each full batch as asynchronous copies
 * on the step's stream while the next batch is being gathered. The labels the host's metrics need are read from the
 * current pinned set, which the filler leaves alone until the following {@link #next()}.
 */
final class PinnedInputFeed implements InputFeed {
    /** Buffer sets: one being copied from, one being filled. */
    static final int DEPTH = 2;

    private final PinnedFeed feed;
    private final LoaderSource source;
    private final int features;

    PinnedInputFeed(CudaExecutable step, Loader loader, int batchSize, int[] slots, int[] featureColumns, int[] labelColumns) {
        if (slots.length != featureColumns.length + labelColumns.length) {
            throw new IllegalArgumentException("pinned feed: " + slots.length + " input slots for " + featureColumns.length + " feature and "
                    + labelColumns.length + " label arrays; pass one slot per array, features first");
        }
        int rows = step.program().inputs().get(slots[0]).shape().dim(0);
        if (rows != batchSize) {
            throw new IllegalArgumentException("pinned feed: batches of " + batchSize + " rows into a program compiled for " + rows + "; use the executable of that batch size");
        }
        this.features = featureColumns.length;
        this.source = new LoaderSource(loader, batchSize, featureColumns, labelColumns);
        this.feed = new PinnedFeed(step, slots, DEPTH, source);
    }

    @Override public boolean next() { return feed.next(); }

    @Override public void labels(int k, float[] dst) {
        MemorySegment pinned = feed.current(features + k);
        MemorySegment.copy(pinned, JAVA_FLOAT, 0, dst, 0, (int) Math.min(dst.length, pinned.byteSize() / 4));
    }

    @Override public Batch remainder() { return source.remainder(); }

    @Override public void close() { feed.close(); }
}
