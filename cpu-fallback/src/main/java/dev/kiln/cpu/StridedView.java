package dev.kiln.cpu;

import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;

import java.util.Arrays;
import java.util.List;

/**
 * A logical row-major walk over a buffer: logical element p (0 &lt;= p &lt; size) lives at
 * {@code offset + Σ_k coord_k(p) · stride_k}. One mechanism expresses every movement op:
 * broadcast (stride 0), transpose (permuted strides), slice and sub-regions (offset + the parent's
 * strides). Built once at compile time; kernels only read it, so it is shared freely across threads.
 *
 * <p>Axes of size 1 are dropped and adjacent axes that walk memory as one are merged
 * ({@code stride[k] == stride[k+1] · dim[k+1]}), so a same-shape operand becomes one contiguous
 * run, a scalar operand one stride-0 run, and a bias over the last axis {@code [rows, C]} with
 * strides {@code [0, 1]}. Kernels walk it in runs along the innermost merged axis.
 *
 * <pre>{@code
 * StridedView bias = StridedView.of(Shape.of(64, 10), Shape.of(10));   // dims [64, 10], strides [0, 1]
 * k.binary(BinaryFn.ADD, x, 0, StridedView.contiguous(Shape.of(64, 10)), b, 0, bias, y, 0, 640);
 * }</pre>
 */
public final class StridedView {
    private final int offset;
    private final int[] dims;     // merged, never empty; dims[rank-1] is the run axis
    private final int[] strides;
    private final int size;

    private StridedView(int offset, int[] dims, int[] strides) {
        int r = 0;
        // at least one axis: a rank-0 (scalar) view is one run of length 1
        int[] d = new int[Math.max(1, dims.length)], s = new int[Math.max(1, dims.length)];
        for (int k = 0; k < dims.length; k++) {
            if (dims[k] < 1) throw new IllegalArgumentException("view dimension " + dims[k] + " must be >= 1 in " + Arrays.toString(dims));
            if (dims[k] == 1) continue;
            if (r > 0 && s[r - 1] == strides[k] * dims[k]) { d[r - 1] *= dims[k]; s[r - 1] = strides[k]; }
            else { d[r] = dims[k]; s[r] = strides[k]; r++; }
        }
        if (r == 0) { d[0] = 1; s[0] = 1; r = 1; }
        this.offset = offset;
        this.dims = Arrays.copyOf(d, r);
        this.strides = Arrays.copyOf(s, r);
        long n = 1;
        for (int x : this.dims) n *= x;
        this.size = (int) n;
    }

    /** A plain row-major walk over {@code shape}: one contiguous run. */
    public static StridedView contiguous(Shape shape) { return new StridedView(0, new int[] {shape.size()}, new int[] {1}); }

    /** NumPy broadcast of a buffer of shape {@code in} to {@code out}: stride 0 on broadcast axes. */
    public static StridedView of(Shape out, Shape in) {
        Shape b = Shape.broadcastOrNull(in, out);
        if (b == null || !b.equals(out)) throw new ShapeException("cannot broadcast " + in + " to " + out);
        int lead = out.rank() - in.rank();
        int[] inStrides = in.strides();
        int[] d = out.dims(), s = new int[out.rank()];
        for (int k = lead; k < out.rank(); k++) s[k] = in.dim(k - lead) == 1 ? 0 : inStrides[k - lead];
        return new StridedView(0, d, s);
    }

    /** Output axis i reads input axis perm[i]. */
    public static StridedView transpose(Shape in, List<Integer> perm) {
        if (perm.size() != in.rank()) throw new IllegalArgumentException("permutation " + perm + " does not fit shape " + in);
        int[] inStrides = in.strides();
        int[] d = new int[in.rank()], s = new int[in.rank()];
        boolean[] seen = new boolean[in.rank()];
        for (int i = 0; i < d.length; i++) {
            int p = perm.get(i);
            if (p < 0 || p >= in.rank() || seen[p]) throw new IllegalArgumentException(perm + " is not a permutation of " + in.rank() + " axes");
            seen[p] = true;
            d[i] = in.dim(p);
            s[i] = inStrides[p];
        }
        return new StridedView(0, d, s);
    }

    /** Elements [start, end) of every axis of a buffer of shape {@code in}. */
    public static StridedView slice(Shape in, List<Integer> start, List<Integer> end) {
        if (start.size() != in.rank() || end.size() != in.rank()) throw new IllegalArgumentException("slice " + start + ".." + end + " does not fit shape " + in);
        int[] region = new int[in.rank()];
        for (int k = 0; k < region.length; k++) region[k] = end.get(k) - start.get(k);
        return subRegion(in, start, Shape.of(region));
    }

    /**
     * The region of shape {@code region} at {@code start} inside a buffer of shape {@code outer}:
     * the destination of {@link ElementwiseKernels#copyInto} for pad (fill, then copy the input
     * into the middle) and concat (each input into its band along the axis).
     */
    public static StridedView subRegion(Shape outer, List<Integer> start, Shape region) {
        if (start.size() != outer.rank() || region.rank() != outer.rank()) throw new IllegalArgumentException("region " + region + " at " + start + " does not fit shape " + outer);
        int[] st = outer.strides();
        int off = 0;
        for (int k = 0; k < st.length; k++) {
            int s = start.get(k);
            if (s < 0 || s + region.dim(k) > outer.dim(k)) throw new ShapeException("region " + region + " at " + start + " leaves shape " + outer + " on axis " + k);
            off += s * st[k];
        }
        return new StridedView(off, region.dims(), st);
    }

    /** Any walk: logical shape {@code dims}, element strides {@code strides}, first element at {@code offset}. */
    public static StridedView general(int offset, List<Integer> dims, List<Integer> strides) {
        if (dims.size() != strides.size()) throw new IllegalArgumentException("dims " + dims + " and strides " + strides + " differ in rank");
        int[] d = new int[dims.size()], s = new int[dims.size()];
        for (int k = 0; k < d.length; k++) { d[k] = dims.get(k); s[k] = strides.get(k); }
        return new StridedView(offset, d, s);
    }

    /** Number of logical elements. */
    public int size() { return size; }

    /** Rank after merging. */
    public int rank() { return dims.length; }

    public int dim(int k) { return dims[k]; }

    public int stride(int k) { return strides[k]; }

    public int offset() { return offset; }

    /** Stride of the innermost merged axis, the one runs walk along. */
    public int innerStride() { return strides[dims.length - 1]; }

    /** True when the walk is one contiguous run from {@link #offset()}. */
    public boolean isContiguous() { return dims.length == 1 && strides[0] == 1; }

    /** True when every logical element reads the same buffer element. */
    public boolean isScalar() { return dims.length == 1 && (strides[0] == 0 || dims[0] == 1); }

    /** Buffer index (relative to the buffer's base offset) of logical element p. */
    public int offsetAt(int p) {
        int last = dims.length - 1;
        if (last == 0) return offset + p * strides[0];
        int off = offset;
        for (int k = last; k >= 0; k--) {
            int d = dims[k];
            int q = p / d;
            off += (p - q * d) * strides[k];
            p = q;
        }
        return off;
    }

    /** How many logical elements from p on lie in the same run (same innermost line). */
    public int runLength(int p) {
        int d = dims[dims.length - 1];
        return d - p % d;
    }

    @Override public String toString() {
        return "view(offset " + offset + ", dims " + Arrays.toString(dims) + ", strides " + Arrays.toString(strides) + ")";
    }
}
