package dev.kiln.cpu;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * A reduction over a set of axes, coalesced at compile time. Size-1 axes are dropped and adjacent
 * axes of the same kind (kept or reduced) merged; when one reduced group remains the reduction is
 * {@code x[outer, reduced, inner] → y[outer, inner]} (sum over a row: inner = 1; batch statistics
 * over NHWC: outer = 1, inner = C). Anything else (several reduced groups, e.g. axes {0, 2} of a
 * rank-4 shape) keeps a {@link #scatter()} view mapping each input element to its output element.
 * The output is row-major over the kept axes, with or without keepDims.
 *
 * <pre>{@code ReducePlan p = ReducePlan.of(Shape.of(64, 28, 28, 32), List.of(0, 1, 2)); // outer 1, reduced 50176, inner 32 }</pre>
 */
public final class ReducePlan {
    private final int size, outSize, count, outer, reduced, inner;
    private final StridedView scatter;   // null when simple

    private ReducePlan(int size, int outSize, int count, int outer, int reduced, int inner, StridedView scatter) {
        this.size = size; this.outSize = outSize; this.count = count;
        this.outer = outer; this.reduced = reduced; this.inner = inner; this.scatter = scatter;
    }

    public static ReducePlan of(Shape in, List<Integer> axes) {
        boolean[] red = new boolean[in.rank()];
        for (int a : axes) {
            int n = in.normalizeAxis(a);
            if (red[n]) throw new IllegalArgumentException("axis " + a + " appears twice in " + axes);
            red[n] = true;
        }
        List<Integer> dims = new ArrayList<>();
        List<Boolean> kinds = new ArrayList<>();
        int count = 1;
        for (int k = 0; k < in.rank(); k++) {
            int d = in.dim(k);
            if (red[k]) count *= d;
            if (d == 1) continue;
            int last = dims.size() - 1;
            if (last >= 0 && kinds.get(last) == red[k]) dims.set(last, dims.get(last) * d);
            else { dims.add(d); kinds.add(red[k]); }
        }
        int size = in.size(), outSize = size / count;
        int groups = 0;
        for (boolean b : kinds) if (b) groups++;
        if (groups <= 1) {
            int outer = 1, reduced = 1, inner = 1;
            boolean seen = false;
            for (int k = 0; k < dims.size(); k++) {
                if (kinds.get(k)) { reduced = dims.get(k); seen = true; }
                else if (seen) inner *= dims.get(k);
                else outer *= dims.get(k);
            }
            return new ReducePlan(size, outSize, count, outer, reduced, inner, null);
        }
        // several reduced groups: output strides over the kept axes, 0 over reduced ones
        int[] d = new int[dims.size()], s = new int[dims.size()];
        int acc = 1;
        for (int k = dims.size() - 1; k >= 0; k--) {
            d[k] = dims.get(k);
            if (kinds.get(k)) s[k] = 0;
            else { s[k] = acc; acc *= d[k]; }
        }
        List<Integer> dl = new ArrayList<>(), sl = new ArrayList<>();
        for (int k = 0; k < d.length; k++) { dl.add(d[k]); sl.add(s[k]); }
        return new ReducePlan(size, outSize, count, 0, 0, 0, StridedView.general(0, dl, sl));
    }

    /** Input elements. */
    public int size() { return size; }
    /** Output elements. */
    public int outSize() { return outSize; }
    /** Input elements per output element (the divisor of MEAN). */
    public int count() { return count; }
    /** True for the {@code [outer, reduced, inner]} form. */
    public boolean isSimple() { return scatter == null; }
    public int outer() { return outer; }
    public int reduced() { return reduced; }
    public int inner() { return inner; }
    /** For the general form: logical input element p accumulates into output element {@code scatter().offsetAt(p)}. */
    public StridedView scatter() { return scatter; }

    @Override public String toString() {
        return isSimple() ? "reduce[outer " + outer + ", reduced " + reduced + ", inner " + inner + "]" : "reduce[scatter " + scatter + "]";
    }
}
