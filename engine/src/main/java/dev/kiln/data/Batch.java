package dev.kiln.data;

import dev.kiln.tensor.Shape;

/**
 * One mini-batch: reused buffers owned by a {@link Loader}, valid until the loader's next call.
 * The arrays hold {@code capacity} examples; only the first {@link #size()} are filled (the last
 * batch of an epoch may be partial).
 */
public final class Batch {
    final float[] x;
    final float[] y;
    int size;
    int epoch;
    int index;
    Shape xShape;
    Shape yShape;

    Batch(int capacity, int fx, int fy) {
        this.x = new float[capacity * fx];
        this.y = new float[capacity * fy];
    }

    /** Marker batches that travel through the prefetch queue. */
    private Batch() { this.x = null; this.y = null; }

    static Batch marker() { return new Batch(); }

    /** The feature buffer (capacity-sized; the first size() examples are valid). Do not keep it past the next call. */
    public float[] features() { return x; }

    /** The label buffer (capacity-sized; the first size() examples are valid). */
    public float[] labels() { return y; }

    /** Examples in this batch. */
    public int size() { return size; }

    /** [size, ...example shape]. */
    public Shape featureShape() { return xShape; }

    /** [size, ...label shape]. */
    public Shape labelShape() { return yShape; }

    public int epoch() { return epoch; }

    /** Position of this batch within its epoch, from 0. */
    public int index() { return index; }
}
