package dev.kiln.cpu;

import dev.kiln.graph.ReduceFn;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.kiln.cpu.Check.*;
import static org.junit.jupiter.api.Assertions.*;

/** Views (broadcast, transpose, slice, sub-regions for pad and concat) and reductions, both twins. */
class MovementAndReduceTest {

    static float[] iota(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i;
        return x;
    }

    @Test void viewsMergeAxesThatWalkMemoryAsOne() {
        StridedView same = StridedView.of(Shape.of(4, 5, 6), Shape.of(4, 5, 6));
        assertTrue(same.isContiguous());
        StridedView bias = StridedView.of(Shape.of(64, 10), Shape.of(1, 10));
        assertEquals(2, bias.rank());
        assertEquals(0, bias.stride(0));
        assertEquals(1, bias.stride(1));
        assertTrue(StridedView.of(Shape.of(3, 7), Shape.SCALAR).isScalar());
        // [2,3,4] -> [2,12] after a transpose that keeps the last two axes together
        StridedView t = StridedView.transpose(Shape.of(2, 3, 4), List.of(1, 2, 0));
        assertEquals(2, t.rank());
        assertEquals(12, t.dim(0));
    }

    @Test void transposeCopyMatchesPermutedCoordinates() {
        Shape in = Shape.of(3, 4, 5, 2);
        List<Integer> perm = List.of(2, 0, 3, 1);
        float[] x = iota(in.size());
        float[] ys = new float[in.size()], yv = new float[in.size()];
        StridedView v = StridedView.transpose(in, perm);
        SCALAR.copy(x, 0, v, ys, 0, in.size());
        VEC.copy(x, 0, v, yv, 0, in.size());
        int[] s = in.strides();
        int p = 0;
        for (int a = 0; a < 5; a++) for (int b = 0; b < 3; b++) for (int c = 0; c < 2; c++) for (int d = 0; d < 4; d++, p++) {
            assertEquals(b * s[0] + d * s[1] + a * s[2] + c * s[3], ys[p], "element " + p);
        }
        close("transpose", ys, yv, EXACT, 0);
    }

    @Test void sliceCopyReadsTheBox() {
        Shape in = Shape.of(6, 7, 8);
        float[] x = iota(in.size());
        StridedView v = StridedView.slice(in, List.of(1, 2, 3), List.of(4, 7, 5));
        int n = 3 * 5 * 2;
        assertEquals(n, v.size());
        float[] y = new float[n + 2];
        VEC.copy(x, 0, v, y, 1, n);
        int p = 1;
        for (int i = 1; i < 4; i++) for (int j = 2; j < 7; j++) for (int k = 3; k < 5; k++) assertEquals(i * 56 + j * 8 + k, y[p++]);
    }

    @Test void padIsFillThenCopyIntoTheInterior() {
        Shape in = Shape.of(2, 3, 20), out = Shape.of(4, 3, 23);
        float[] x = iota(in.size());
        float[] y = new float[out.size()];
        VEC.fill(y, 0, out.size(), -1f);
        VEC.copyInto(x, 0, y, 0, StridedView.subRegion(out, List.of(1, 0, 2), in), in.size());
        for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 23; k++) {
            boolean inside = i >= 1 && i < 3 && k >= 2 && k < 22;
            float e = inside ? (i - 1) * 60 + j * 20 + (k - 2) : -1f;
            assertEquals(e, y[(i * 3 + j) * 23 + k], "pad at " + i + "," + j + "," + k);
        }
    }

    @Test void concatIsCopiesIntoBands() {
        Shape a = Shape.of(3, 2, 4), b = Shape.of(3, 5, 4), out = Shape.of(3, 7, 4);
        float[] xa = iota(a.size()), xb = iota(b.size());
        for (int i = 0; i < xb.length; i++) xb[i] += 1000;
        float[] y = new float[out.size()];
        SCALAR.copyInto(xa, 0, y, 0, StridedView.subRegion(out, List.of(0, 0, 0), a), a.size());
        VEC.copyInto(xb, 0, y, 0, StridedView.subRegion(out, List.of(0, 2, 0), b), b.size());
        for (int i = 0; i < 3; i++) for (int j = 0; j < 7; j++) for (int k = 0; k < 4; k++) {
            float e = j < 2 ? (i * 2 + j) * 4 + k : 1000 + (i * 5 + j - 2) * 4 + k;
            assertEquals(e, y[(i * 7 + j) * 4 + k]);
        }
    }

    @Test void broadcastCopyRepeatsTheOperand() {
        float[] x = {1, 2, 3};
        float[] y = new float[4 * 3 * 5];
        VEC.copy(x, 0, StridedView.of(Shape.of(4, 3, 5), Shape.of(3, 1)), y, 0, y.length);
        for (int p = 0; p < y.length; p++) assertEquals(x[(p / 5) % 3], y[p]);
    }

    @Test void reductionsOverEveryAxisSetMatchScalarTwinAndDoubleReference() {
        Random r = new Random(11);
        Shape[] shapes = {Shape.of(1024), Shape.of(207), Shape.of(13, 25), Shape.of(4, 1, 33, 16), Shape.of(L + 1, 3, L - 1), Shape.of(2, 3, 4, 5),
                // inner 7L + 3 after reducing axes {0, 1}: the column sums' 4-, 2- and 1-vector blocks and the scalar tail
                Shape.of(7, 5, 7 * L + 3)};
        for (Shape s : shapes) {
            float[] x = uniform(r, s.size(), -1, 1);
            for (int mask = 1; mask < (1 << s.rank()); mask++) {
                List<Integer> axes = new ArrayList<>();
                for (int k = 0; k < s.rank(); k++) if ((mask & (1 << k)) != 0) axes.add(k);
                ReducePlan p = ReducePlan.of(s, axes);
                for (ReduceFn fn : ReduceFn.values()) {
                    float[] ys = new float[p.outSize() + 1], yv = new float[p.outSize() + 1];
                    SCALAR.reduce(fn, p, x, 0, ys, 1);
                    VEC.reduce(fn, p, x, 0, yv, 1);
                    double[] ref = reference(fn, s, axes, x);
                    String what = fn + " " + s + " over " + axes + " " + p;
                    double tol = fn == ReduceFn.MAX ? 0 : REORDERED_SUM * p.count();
                    for (int o = 0; o < ref.length; o++) {
                        assertEquals(ref[o], ys[1 + o], tol, what + " scalar at " + o);
                        assertEquals(ys[1 + o], yv[1 + o], tol, what + " vector at " + o);
                    }
                }
            }
        }
    }

    @Test void reductionOverLeadingRowsMatchesTheTwinExactly() {
        Random r = new Random(12);
        // the vector kernel keeps column accumulators in registers but adds rows in the twin's order
        for (int cols : new int[] {L - 1, L, L + 1, 4 * L - 1, 4 * L, 4 * L + 3, 256, 207}) {
            for (int rows : new int[] {1, 2, 7, 512}) {
                ReducePlan p = ReducePlan.of(Shape.of(rows, cols), List.of(0));
                float[] x = uniform(r, rows * cols, -1, 1);
                for (ReduceFn fn : ReduceFn.values()) {
                    float[] ys = new float[cols + 2], yv = new float[cols + 2];
                    SCALAR.reduce(fn, p, x, 0, ys, 1);
                    VEC.reduce(fn, p, x, 0, yv, 1);
                    assertArrayEquals(ys, yv, 0f, fn + " over rows of [" + rows + ", " + cols + "]");
                }
            }
        }
    }

    /** Reduction by coordinates in double: each input element adds to the output element of its kept coordinates. */
    static double[] reference(ReduceFn fn, Shape s, List<Integer> axes, float[] x) {
        int[] d = s.dims();
        int out = 1;
        for (int k = 0; k < d.length; k++) if (!axes.contains(k)) out *= d[k];
        double[] y = new double[out];
        if (fn == ReduceFn.MAX) java.util.Arrays.fill(y, Double.NEGATIVE_INFINITY);
        for (int p = 0; p < x.length; p++) {
            int q = p, o = 0, mul = 1;
            for (int k = d.length - 1; k >= 0; k--) {
                int c = q % d[k];
                q /= d[k];
                if (!axes.contains(k)) { o += c * mul; mul *= d[k]; }
            }
            y[o] = fn == ReduceFn.MAX ? Math.max(y[o], x[p]) : y[o] + x[p];
        }
        if (fn == ReduceFn.MEAN) for (int o = 0; o < out; o++) y[o] /= x.length / out;
        return y;
    }

    @Test void reducePlanCoalescesToOuterReducedInner() {
        ReducePlan bn = ReducePlan.of(Shape.of(8, 5, 5, 32), List.of(0, 1, 2));
        assertTrue(bn.isSimple());
        assertEquals(1, bn.outer());
        assertEquals(200, bn.reduced());
        assertEquals(32, bn.inner());
        ReducePlan rows = ReducePlan.of(Shape.of(8, 1, 10), List.of(2));
        assertEquals(8, rows.outer());
        assertEquals(10, rows.reduced());
        assertEquals(1, rows.inner());
        assertFalse(ReducePlan.of(Shape.of(2, 3, 4, 5), List.of(0, 2)).isSimple());
    }

    @Test void maxReductionPropagatesNaN() {
        float[] x = uniform(new Random(12), 100, -1, 1);
        x[57] = Float.NaN;
        ReducePlan p = ReducePlan.of(Shape.of(100), List.of(0));
        float[] y = new float[1];
        VEC.reduce(ReduceFn.MAX, p, x, 0, y, 0);
        assertTrue(Float.isNaN(y[0]));
        SCALAR.reduce(ReduceFn.MAX, p, x, 0, y, 0);
        assertTrue(Float.isNaN(y[0]));
    }
}
