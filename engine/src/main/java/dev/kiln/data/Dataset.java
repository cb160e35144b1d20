package dev.kiln.data;

import dev.kiln.eager.Tensor;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An immutable, in-memory set of examples: feature and label arrays, row-major floats whose first
 * dimension is the example count N: features {@code [N, 11]} or {@code [N, 28, 28, 1]} (NHWC),
 * labels {@code [N]} (a class index or a regression target) or {@code [N, k]}.
 *
 * <pre>{@code
 * Dataset d = Dataset.of(x, Shape.of(442, 10), y, Shape.of(442));
 * Dataset.Split s = d.split(0.2, 42);   // seeded shuffle, then 80% train / 20% validation
 * }</pre>
 *
 * A model with several inputs takes a dataset with several named inputs, one per model
 * {@code Input} name (Keras's {@code fit({"a": xa, "b": xb}, y)}); a model with several
 * outputs takes one named target per output layer:
 *
 * <pre>{@code
 * Dataset d = Dataset.of(Map.of("a", Tensor.of(Shape.of(n, 3), xa), "b", Tensor.of(Shape.of(n, 5), xb)),
 *                        Tensor.of(Shape.of(n), y));
 * }</pre>
 *
 * Every array keeps its rows aligned with the others through subsets, splits, shuffling and
 * batching. Construction copies the arrays and rejects NaN and infinities, naming the array, the
 * row and the column, so bad values never reach a training step.
 */
public final class Dataset {
    /** One array of the dataset: N first; {@code name} is null in a dataset of one unnamed input (or target). */
    private record Column(String name, float[] values, Shape shape) {
        int perExample() { return shape.sizeOf(1, shape.rank()); }
        Shape example() { return shape.rank() == 1 ? Shape.SCALAR : Shape.of(Arrays.copyOfRange(shape.dims(), 1, shape.rank())); }
        String describe(String what) { return name == null ? what + "s" : what + " '" + name + "'"; }
    }

    private final List<Column> xs, ys;

    private Dataset(List<Column> xs, List<Column> ys) {
        this.xs = List.copyOf(xs);
        this.ys = List.copyOf(ys);
    }

    /** A train/validation pair. */
    public record Split(Dataset train, Dataset validation) {}

    /** Copies {@code x} and {@code y}; the shapes include the leading example dimension N. */
    public static Dataset of(float[] x, Shape xShape, float[] y, Shape yShape) {
        return wrap(x.clone(), xShape, y.clone(), yShape);
    }

    /**
     * Several named inputs (one per model input, by its {@code Input} name) and one target;
     * every tensor's shape starts with the example count N. Copies the values.
     */
    public static Dataset of(Map<String, Tensor> inputs, Tensor target) {
        return make(columns(inputs, "input"), List.of(column(null, target.toArray(), target.shape(), "label")));
    }

    /** Several named inputs and one named target per model output (by the output layer's name, as Keras's dicts). */
    public static Dataset of(Map<String, Tensor> inputs, Map<String, Tensor> targets) {
        return make(columns(inputs, "input"), columns(targets, "target"));
    }

    private static List<Column> columns(Map<String, Tensor> named, String what) {
        if (named.isEmpty()) throw new IllegalArgumentException("a dataset needs at least one " + what + "; the map of " + what + "s is empty");
        List<Column> cs = new ArrayList<>();
        // sorted by name, so that Map.of's unspecified order never reaches the dataset
        for (String n : new java.util.TreeSet<>(named.keySet())) {
            Tensor t = named.get(n);
            cs.add(column(n, t.toArray(), t.shape(), what));
        }
        return cs;
    }

    private static Column column(String name, float[] values, Shape shape, String what) {
        Column c = new Column(name, values, shape);
        if (shape.rank() < 1) throw new IllegalArgumentException(c.describe(what) + " of shape " + shape + " must start with the example count N");
        if (values.length != shape.size()) throw new IllegalArgumentException(c.describe(what) + ": array has " + values.length + " values but shape " + shape + " needs " + shape.size());
        requireFinite(c, what);
        return c;
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
        Column cx = new Column(null, x, xShape), cy = new Column(null, y, yShape);
        requireFinite(cx, "feature");
        requireFinite(cy, "label");
        return new Dataset(List.of(cx), List.of(cy));
    }

    private static Dataset make(List<Column> xs, List<Column> ys) {
        Column first = xs.get(0);
        List<Column> all = new ArrayList<>(xs);
        all.addAll(ys);
        for (Column c : all) {
            if (c.shape.dim(0) != first.shape.dim(0)) {
                throw new IllegalArgumentException((xs.contains(c) ? "input" : "target") + " '" + (c.name == null ? "labels" : c.name) + "' has " + c.shape.dim(0)
                        + " examples " + c.shape + " but input '" + first.name + "' has " + first.shape.dim(0) + " " + first.shape
                        + "; give every input and target one row per example");
            }
        }
        return new Dataset(xs, ys);
    }

    private static void requireFinite(Column c, String what) {
        float[] a = c.values;
        int per = c.perExample();
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) {
                String which = c.name == null ? what : what + " '" + c.name + "':";
                throw new IllegalArgumentException(which + " " + a[i] + " at row " + (i / per) + ", column " + (i % per)
                        + " (0-based) is not finite; drop or impute that value before building the Dataset");
            }
        }
    }

    public int size() { return xs.get(0).shape.dim(0); }

    /** How many input arrays: 1, or one per model input for a dataset built from named inputs. */
    public int inputCount() { return xs.size(); }

    /** How many target arrays: 1, or one per model output for a dataset built from named targets. */
    public int targetCount() { return ys.size(); }

    /** The name of input {@code i} (sorted by name), or null for the single unnamed input of {@link #of(float[], Shape, float[], Shape)}. */
    public String inputName(int i) { return xs.get(i).name; }

    /** The name of target {@code k}, or null for a single unnamed target. */
    public String targetName(int k) { return ys.get(k).name; }

    /** The index of the input named {@code name}, or -1. */
    public int inputIndex(String name) {
        for (int i = 0; i < xs.size(); i++) if (name.equals(xs.get(i).name)) return i;
        return -1;
    }

    /** The index of the target named {@code name}, or -1. */
    public int targetIndex(String name) {
        for (int k = 0; k < ys.size(); k++) if (name.equals(ys.get(k).name)) return k;
        return -1;
    }

    /** The input names, in input order (empty for a single unnamed input). */
    public List<String> inputNames() { return names(xs); }

    /** The target names, in target order (empty for a single unnamed target). */
    public List<String> targetNames() { return names(ys); }

    private static List<String> names(List<Column> cs) {
        List<String> n = new ArrayList<>();
        for (Column c : cs) if (c.name != null) n.add(c.name);
        return n;
    }

    private Column x() {
        if (xs.size() != 1) throw new IllegalStateException("this dataset has " + xs.size() + " inputs " + inputNames() + "; ask for one by index or name, e.g. features(\"" + xs.get(0).name + "\")");
        return xs.get(0);
    }

    private Column y() {
        if (ys.size() != 1) throw new IllegalStateException("this dataset has " + ys.size() + " targets " + targetNames() + "; ask for one by index, e.g. labels(0)");
        return ys.get(0);
    }

    /** Features shape, N first (a dataset of one input). */
    public Shape featureShape() { return x().shape; }

    /** Labels shape, N first (a dataset of one target). */
    public Shape labelShape() { return y().shape; }

    /** The shape of one example, without N (e.g. [28, 28, 1]). */
    public Shape exampleShape() { return x().example(); }

    /** The shape of one example of input {@code i}, without N. */
    public Shape exampleShape(int i) { return xs.get(i).example(); }

    /** The shape of one label, without N ([] for a class index or scalar target). */
    public Shape exampleLabelShape() { return y().example(); }

    /** The shape of one example of target {@code k}, without N. */
    public Shape exampleLabelShape(int k) { return ys.get(k).example(); }

    public int featuresPerExample() { return x().perExample(); }

    /** Values per example of input {@code i}. */
    public int featuresPerExample(int i) { return xs.get(i).perExample(); }

    public int labelsPerExample() { return y().perExample(); }

    /** Values per example of target {@code k}. */
    public int labelsPerExample(int k) { return ys.get(k).perExample(); }

    /** A copy of the features. */
    public float[] features() { return x().values.clone(); }

    /** A copy of input {@code i}. */
    public float[] features(int i) { return xs.get(i).values.clone(); }

    /** A copy of the input named {@code name}. */
    public float[] features(String name) {
        int i = inputIndex(name);
        if (i < 0) throw new IllegalArgumentException("this dataset has no input named '" + name + "'; inputs: " + inputNames());
        return features(i);
    }

    /** A copy of the labels. */
    public float[] labels() { return y().values.clone(); }

    /** A copy of target {@code k}. */
    public float[] labels(int k) { return ys.get(k).values.clone(); }

    public float feature(int row, int column) { return x().values[index(row, column, featuresPerExample())]; }

    public float label(int row, int column) { return y().values[index(row, column, labelsPerExample())]; }

    public float label(int row) { return label(row, 0); }

    private int index(int row, int column, int per) {
        if (row < 0 || row >= size() || column < 0 || column >= per)
            throw new IndexOutOfBoundsException("row " + row + ", column " + column + " is outside " + size() + " x " + per);
        return row * per + column;
    }

    /** Copies example {@code row} into the given arrays: the hot path of batching, no allocation. */
    public void copyExample(int row, float[] xDst, int xOffset, float[] yDst, int yOffset) {
        Column x = x(), y = y();
        int fx = x.perExample(), fy = y.perExample();
        System.arraycopy(x.values, row * fx, xDst, xOffset, fx);
        System.arraycopy(y.values, row * fy, yDst, yOffset, fy);
    }

    /**
     * Copies example {@code row} of every input and target to position {@code at} of the given
     * batch arrays (one per input, one per target, each {@code [capacity, ...example]}): no allocation.
     */
    public void copyExample(int row, float[][] xDst, float[][] yDst, int at) {
        for (int i = 0; i < xs.size(); i++) {
            Column c = xs.get(i);
            int per = c.perExample();
            System.arraycopy(c.values, row * per, xDst[i], at * per, per);
        }
        for (int k = 0; k < ys.size(); k++) {
            Column c = ys.get(k);
            int per = c.perExample();
            System.arraycopy(c.values, row * per, yDst[k], at * per, per);
        }
    }

    /** The examples at {@code indices}, in that order (repeats allowed), of every input and target. */
    public Dataset subset(int[] indices) {
        if (indices.length == 0) throw new IllegalArgumentException("a subset needs at least one index");
        for (int r : indices) if (r < 0 || r >= size()) throw new IndexOutOfBoundsException("subset index " + r + " is outside [0, " + size() + ")");
        return new Dataset(gather(xs, indices), gather(ys, indices));
    }

    private static List<Column> gather(List<Column> cs, int[] indices) {
        List<Column> out = new ArrayList<>();
        for (Column c : cs) {
            int per = c.perExample();
            float[] v = new float[indices.length * per];
            for (int i = 0; i < indices.length; i++) System.arraycopy(c.values, indices[i] * per, v, i * per, per);
            out.add(new Column(c.name, v, c.shape.withDim(0, indices.length)));
        }
        return out;
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
            throw new IllegalArgumentException("labels have shape " + labelShape() + "; class indices need shape [N]");
        float[] y = y().values;
        for (int i = 0; i < y.length; i++) {
            float v = y[i];
            if (v != Math.rint(v) || v < 0 || v >= numClasses)
                throw new IllegalArgumentException("label " + v + " at row " + i + " is not a class index in [0, " + numClasses
                        + "); check the number of classes the loss was given, or re-map the labels");
        }
        return this;
    }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("Dataset[").append(size()).append(" examples");
        for (Column c : xs) sb.append(c.name == null ? ", features " : ", input '" + c.name + "' ").append(c.shape);
        for (Column c : ys) sb.append(c.name == null ? ", labels " : ", target '" + c.name + "' ").append(c.shape);
        return sb.append(']').toString();
    }
}
