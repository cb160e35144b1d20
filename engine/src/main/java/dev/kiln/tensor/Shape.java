package dev.kiln.tensor;

import java.util.Arrays;
import java.util.List;

/**
 * An immutable tensor shape. Rank 0 is a scalar. Dimensions are positive.
 *
 * <pre>{@code Shape s = Shape.of(64, 28, 28, 1); s.size(); // 50176 }</pre>
 */
public final class Shape {
    public static final Shape SCALAR = new Shape(new int[0]);

    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 1) throw new IllegalArgumentException("shape " + Arrays.toString(dims) + ": every dimension must be >= 1");
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 64) throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has " + n + " elements, more than one buffer holds");
        this.dims = dims;
        this.size = n;
    }

    public static Shape of(int... dims) { return dims.length == 0 ? SCALAR : new Shape(dims.clone()); }

    public static Shape of(List<Integer> dims) {
        int[] d = new int[dims.size()];
        for (int i = 0; i < d.length; i++) d[i] = dims.get(i);
        return of(d);
    }

    public int rank() { return dims.length; }

    public int dim(int axis) { return dims[normalizeAxis(axis)]; }

    /** A copy of the dimensions. */
    public int[] dims() { return dims.clone(); }

    public List<Integer> toList() { return Arrays.stream(dims).boxed().toList(); }

    public int size() { return (int) size; }

    /** Maps a possibly negative axis to [0, rank). */
    public int normalizeAxis(int axis) {
        int a = axis < 0 ? axis + dims.length : axis;
        if (a < 0 || a >= dims.length) throw new IllegalArgumentException("axis " + axis + " is out of range for shape " + this);
        return a;
    }

    /** Row-major strides in elements. */
    public int[] strides() {
        int[] s = new int[dims.length];
        int acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
        return s;
    }

    /** Product of dims in [from, to). */
    public int sizeOf(int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) n *= dims[i];
        return n;
    }

    public Shape withDim(int axis, int value) {
        int[] d = dims.clone();
        d[normalizeAxis(axis)] = value;
        return new Shape(d);
    }

    /**
     * NumPy broadcasting of two shapes, or an exception naming both.
     */
    public static Shape broadcast(Shape a, Shape b) {
        Shape r = broadcastOrNull(a, b);
        if (r == null) throw new ShapeException("shapes " + a + " and " + b + " do not broadcast: trailing dimensions must be equal or 1");
        return r;
    }

    public static Shape broadcastOrNull(Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.rank() ? 1 : a.dims[i - (rank - a.rank())];
            int db = i < rank - b.rank() ? 1 : b.dims[i - (rank - b.rank())];
            if (da != db && da != 1 && db != 1) return null;
            out[i] = Math.max(da, db);
        }
        return rank == 0 ? SCALAR : new Shape(out);
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) { if (i > 0) sb.append(", "); sb.append(dims[i]); }
        return sb.append(']').toString();
    }
}
