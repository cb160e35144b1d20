package dev.kiln.data;

import dev.kiln.tensor.Shape;

/**
 * One mini-batch: reused buffers owned by a {@link Loader}, valid until the loader's next call.
 * The arrays hold {@code capacity} examples; only the first {@link #size()} are filled (the last
 * batch of an epoch may be partial). A dataset of several inputs or targets gets one buffer each,
 * in the dataset's order, rows aligned across them.
 */
public final class Batch {
    final float[][] xs;
    final float[][] ys;
    int size;
    int epoch;
    int index;
    Shape xShape;
    Shape yShape;

    Batch(int capacity, Dataset d) {
        this.xs = new float[d.inputCount()][];
        this.ys = new float[d.targetCount()][];
        for (int i = 0; i < xs.length; i++) xs[i] = new float[capacity * d.featuresPerExample(i)];
        for (int k = 0; k < ys.length; k++) ys[k] = new float[capacity * d.labelsPerExample(k)];
    }

    /** Marker batches that travel through the prefetch queue. */
    private Batch() { this.xs = null; this.ys = null; }

    static Batch marker() { return new Batch(); }

    /** The feature buffer (capacity-sized; the first size() examples are valid) of a single-input dataset. Do not keep it past the next call. */
    public float[] features() {
        if (xs.length != 1) throw new IllegalStateException("this batch has " + xs.length + " inputs; use features(i), i in the dataset's input order");
        return xs[0];
    }

    /** The buffer of input {@code i}, in the dataset's input order. */
    public float[] features(int i) { return xs[i]; }

    /** The label buffer (capacity-sized; the first size() examples are valid) of a single-target dataset. */
    public float[] labels() {
        if (ys.length != 1) throw new IllegalStateException("this batch has " + ys.length + " targets; use labels(k), k in the dataset's target order");
        return ys[0];
    }

    /** The buffer of target {@code k}, in the dataset's target order. */
    public float[] labels(int k) { return ys[k]; }

    /** Examples in this batch. */
    public int size() { return size; }

    /** [size, ...example shape] of a single-input dataset (null for several inputs). */
    public Shape featureShape() { return xShape; }

    /** [size, ...label shape]. */
    public Shape labelShape() { return yShape; }

    public int epoch() { return epoch; }

    /** Position of this batch within its epoch, from 0. */
    public int index() { return index; }
}
