package dev.kiln.train;

import dev.kiln.backend.InputFeed;
import dev.kiln.data.Batch;
import dev.kiln.data.Loader;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * An {@link InputFeed.Source} over a data {@link Loader}: each batch's feature arrays, then its label arrays, copied
 * into the pinned buffers in that order (so the feed's slots list the program's feature inputs, then its target
 * inputs). Start the loader's epoch before the feed is built; the feed's thread then takes the loader's batches (with
 * the loader's own prefetch, decoding and shuffling run one batch further ahead). A batch shorter than the buffers
 * (the last, partial one) ends the feed and is kept in {@link #remainder()}, for its own program through setInput.
 */
public final class LoaderSource implements InputFeed.Source {
    private final Loader loader;
    private final int batchSize;
    private final int[] featureColumns, labelColumns;
    private volatile Batch remainder;

    /** Batches of {@code batchSize} rows (the program's) from {@code loader}: dataset feature arrays {@code featureColumns}, then label arrays {@code labelColumns}. */
    public LoaderSource(Loader loader, int batchSize, int[] featureColumns, int[] labelColumns) {
        this.loader = loader;
        this.batchSize = batchSize;
        this.featureColumns = featureColumns.clone();
        this.labelColumns = labelColumns.clone();
    }

    @Override public boolean fill(MemorySegment[] into) {
        if (into.length != featureColumns.length + labelColumns.length) {
            throw new IllegalArgumentException("LoaderSource: " + into.length + " pinned buffers for " + featureColumns.length + " feature and "
                    + labelColumns.length + " label arrays; give the feed one slot per array, features first");
        }
        Batch b = loader.next();
        if (b == null) return false;
        if (b.size() != batchSize) { remainder = b; return false; }
        for (int i = 0; i < into.length; i++) {
            float[] src = i < featureColumns.length ? b.features(featureColumns[i]) : b.labels(labelColumns[i - featureColumns.length]);
            MemorySegment.copy(src, 0, into[i], JAVA_FLOAT, 0, (int) (into[i].byteSize() / 4));
        }
        return true;
    }

    /** The short last batch that ended the feed, or null. */
    public Batch remainder() { return remainder; }
}
