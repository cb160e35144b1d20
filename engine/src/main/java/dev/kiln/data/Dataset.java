package dev.kiln.data;

import dev.kiln.tensor.Shape;

import java.util.Arrays;

/**
 * An immutable, in-memory pair of feature and label arrays. Both are row-major float arrays whose
 * first dimension is the example count N: features {@code [N, 11]} or {@code [N, 28, 28, 1]} (NHWC),
 * labels {@code [N]} (a class index or a regression target) or {@code [N, k]}.
 *
 * <pre>{@code
 * Dataset d = Dataset.of(x, Shape.of(442, 10), y, Shape.of(442));
 * Dataset.Split s = d.split(0.2, 42);   // seeded shuffle, then 80% train / 20% validation
 * }</pre>
 *
 * Construction copies the arrays and rejects NaN and infinities, naming the row and column, so
 * bad values never reach a training step.
 */
public final class Dataset {
    private final float[] x;
    private final Shape xShape;
    private final float[] y;
    private final Shape yShape;

    private Dataset(float[] x, Shape xShape, float[] y, Shape yShape) {
        this.x = x;
        this.xShape = xShape;
        this.y = y;
        this.yShape = yShape;
    }

    /** A train/validation pair. */
    public record Split(Dataset train, Dataset validation) {}

    /** Copies {@code x} and {@code y}; the shapes include the leading example dimension N. */
    public static Dataset of(float[] x, Shape xShape, float[] y, Shape yShape) {
        return wrap(x.clone(), xShape, y.clone(), yShape);
    }

    /** Takes ownership of the arrays without copying: only for readers in this package that made them. */
    static Dataset wrap(float[] x, Shape xShape, float[] y, Shape yShape) {
        if (xShape.rank() < 1 || yShape.rank() < 1)
            throw new IllegalArgumentException("feature shape " + xShape + " and label shape " + yShape
                    + " must both start with the example count N");
        if (xShape.dim(0) != yShape.dim(0))
            throw new IllegalArgumentException("features have " + xShape.dim(0) + " examples " + xShape + " but labels have "
                    + yShape.dim(0) + " " + yShape + "; give one label row per example");
        if (x.length != xShape.size())
            throw new IllegalArgumentException("feature array has " + x.length + " values but shape " + xShape + " needs " + xShape.size());
        if (y.length != yShape.size())
            throw new IllegalArgumentException("label array has " + y.length + " values but shape " + yShape + " needs " + yShape.size());
        requireFinite(x, xShape, "feature");
        requireFinite(y, yShape, "label");
        return new Dataset(x, xShape, y, yShape);
    }

    private static void requireFinite(float[] a, Shape shape, String what) {
        int per = shape.sizeOf(1, shape.rank());
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) {
                throw new IllegalArgumentException(what + " " + a[i] + " at row " + (i / per) + ", column " + (i % per)
                        + " (0-based) is not finite; drop or impute that value before building the Dataset");
            }
        }
    }

    public int size() { return xShape.dim(0); }

    /** Features shape, N first. */
    public Shape featureShape() { return xShape; }

    /** Labels shape, N first. */
    public Shape labelShape() { return yShape; }

    /** The shape of one example, without N (e.g. [28, 28, 1]). */
    public Shape exampleShape() { return xShape.rank() == 1 ? Shape.SCALAR : Shape.of(Arrays.copyOfRange(xShape.dims(), 1, xShape.rank())); }

    /** The shape of one label, without N ([] for a class index or scalar target). */
    public Shape exampleLabelShape() { return yShape.rank() == 1 ? Shape.SCALAR : Shape.of(Arrays.copyOfRange(yShape.dims(), 1, yShape.rank())); }

    public int featuresPerExample() { return xShape.sizeOf(1, xShape.rank()); }

    public int labelsPerExample() { return yShape.sizeOf(1, yShape.rank()); }

    /** A copy of the features. */
    public float[] features() { return x.clone(); }

    /** A copy of the labels. */
    public float[] labels() { return y.clone(); }

    public float feature(int row, int column) { return x[index(row, column, featuresPerExample())]; }

    public float label(int row, int column) { return y[index(row, column, labelsPerExample())]; }

    public float label(int row) { return label(row, 0); }

    private int index(int row, int column, int per) {
        if (row < 0 || row >= size() || column < 0 || column >= per)
            throw new IndexOutOfBoundsException("row " + row + ", column " + column + " is outside " + size() + " x " + per);
        return row * per + column;
    }

    /** Copies example {@code row} into the given arrays: the hot path of batching, no allocation. */
    public void copyExample(int row, float[] xDst, int xOffset, float[] yDst, int yOffset) {
        int fx = featuresPerExample(), fy = labelsPerExample();
        System.arraycopy(x, row * fx, xDst, xOffset, fx);
        System.arraycopy(y, row * fy, yDst, yOffset, fy);
    }

    /** The examples at {@code indices}, in that order (repeats allowed). */
    public Dataset subset(int[] indices) {
        if (indices.length == 0) throw new IllegalArgumentException("a subset needs at least one index");
        int fx = featuresPerExample(), fy = labelsPerExample();
        float[] nx = new float[indices.length * fx];
        float[] ny = new float[indices.length * fy];
        for (int i = 0; i < indices.length; i++) {
            int r = indices[i];
            if (r < 0 || r >= size()) throw new IndexOutOfBoundsException("subset index " + r + " is outside [0, " + size() + ")");
            System.arraycopy(x, r * fx, nx, i * fx, fx);
            System.arraycopy(y, r * fy, ny, i * fy, fy);
        }
        return new Dataset(nx, xShape.withDim(0, indices.length), ny, yShape.withDim(0, indices.length));
    }

    /** The first {@code n} examples (all of them when n >= size). */
    public Dataset take(int n) {
        if (n < 1) throw new IllegalArgumentException("take(" + n + "): n must be >= 1");
        if (n >= size()) return this;
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return subset(idx);
    }

    /**
     * Shuffles with {@code seed}, then puts the last {@code round(N * validationFraction)} examples
     * into validation. The same seed gives the same split.
     */
    public Split split(double validationFraction, long seed) {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new IllegalArgumentException("validation fraction " + validationFraction + " must be in (0, 1)");
        int n = size();
        int nVal = (int) Math.round(n * validationFraction);
        if (nVal < 1 || nVal >= n)
            throw new IllegalArgumentException("a validation fraction of " + validationFraction + " of " + n
                    + " examples leaves an empty train or validation part; use more data or another fraction");
        int[] perm = new int[n];
        new SplitMix(SplitMix.key(seed, 0x5917, 0)).permutation(perm);
        return new Split(subset(Arrays.copyOfRange(perm, 0, n - nVal)), subset(Arrays.copyOfRange(perm, n - nVal, n)));
    }

    /**
     * Checks that every label is a class index in [0, numClasses), as sparse categorical
     * cross-entropy expects; names the first bad row. Returns this for chaining.
     */
    public Dataset requireClassLabels(int numClasses) {
        if (labelsPerExample() != 1)
            throw new IllegalArgumentException("labels have shape " + yShape + "; class indices need shape [N]");
        for (int i = 0; i < y.length; i++) {
            float v = y[i];
            if (v != Math.rint(v) || v < 0 || v >= numClasses)
                throw new IllegalArgumentException("label " + v + " at row " + i + " is not a class index in [0, " + numClasses
                        + "); check the number of classes the loss was given, or re-map the labels");
        }
        return this;
    }

    @Override public String toString() { return "Dataset[" + size() + " examples, features " + xShape + ", labels " + yShape + "]"; }
}
