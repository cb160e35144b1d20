package dev.kiln.cpu;

import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.UnaryFn;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.kiln.cpu.Check.*;
import static org.junit.jupiter.api.Assertions.*;

/** Vector kernels against their scalar twins, and the scalar twins against the double-precision meaning. */
class ElementwiseTwinTest {

    static float[] unaryInput(UnaryFn fn, Random r, int n) {
        return switch (fn) {
            case LOG, SQRT, RSQRT -> uniform(r, n, 1e-3, 50);
            case EXP -> uniform(r, n, -20, 20);
            case NEG, ABS, SIGN, RELU, SIGMOID, TANH -> {
                float[] x = uniform(r, n, -12, 12);
                if (n > 3) { x[0] = 0f; x[1] = -0f; x[2] = -80f; }
                yield x;
            }
            case ROUND_BF16, ROUND_FP16, ROUND_TF32 -> roundingInput(r, n);
        };
    }

    /** Every exponent from subnormal to near-overflow, both signs, with the rounding edge cases planted at the front. */
    static float[] roundingInput(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = Float.intBitsToFloat(r.nextInt() & 0xFF7FFFFF);  // never inf/NaN: exponent below 255
        float[] edges = {0f, -0f, 65504f, 65519.99f, 65520f, -65520f, 0x1p-24f, 0x1p-25f, 3 * 0x1p-25f, -0x1p-26f, 0x1.ff8p-15f,
                1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 1 + 0x1p-11f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, Float.POSITIVE_INFINITY, Float.NaN};
        System.arraycopy(edges, 0, x, 0, Math.min(n, edges.length));
        return x;
    }

    static boolean transcendental(UnaryFn fn) { return fn == UnaryFn.EXP || fn == UnaryFn.LOG || fn == UnaryFn.TANH || fn == UnaryFn.SIGMOID; }

    @Test void everyUnaryVectorKernelMatchesScalarTwinAtEdgeSizes() {
        Random r = new Random(1);
        for (UnaryFn fn : UnaryFn.values()) {
            for (int n : SIZES) {
                float[] x = unaryInput(fn, r, n + 3);
                float[] ys = new float[n + 5], yv = new float[n + 5];
                SCALAR.unary(fn, x, 3, ys, 2, n);
                VEC.unary(fn, x, 3, yv, 2, n);
                if (transcendental(fn)) ulps(fn + " n=" + n, ys, yv, TRANSCENDENTAL_ULPS);
                else close(fn + " n=" + n, ys, yv, EXACT, 0);
                assertEquals(0f, yv[1], "wrote before the output offset");
                assertEquals(0f, yv[n + 2], "wrote past the output");
            }
        }
    }

    /** The roundings are bit operations: vector and scalar must agree to the bit, signed zeros and NaN included. */
    @Test void roundingVectorKernelsMatchTwinBitForBit() {
        Random r = new Random(6);
        for (UnaryFn fn : new UnaryFn[] {UnaryFn.ROUND_BF16, UnaryFn.ROUND_FP16, UnaryFn.ROUND_TF32}) {
            for (int n : new int[] {1, 19, 64, 1024 + 7}) {
                float[] x = roundingInput(r, n);
                float[] ys = new float[n], yv = new float[n];
                SCALAR.unary(fn, x, 0, ys, 0, n);
                VEC.unary(fn, x, 0, yv, 0, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(Float.floatToIntBits(ys[i]), Float.floatToIntBits(yv[i]), fn + "(" + x[i] + ") n=" + n + ": scalar " + ys[i] + ", vector " + yv[i]);
                }
            }
        }
    }

    @Test void scalarUnaryTwinMatchesDoubleMeaning() {
        Random r = new Random(2);
        for (UnaryFn fn : UnaryFn.values()) {
            float[] x = unaryInput(fn, r, 207);
            float[] y = new float[207];
            SCALAR.unary(fn, x, 0, y, 0, 207);
            for (int i = 0; i < x.length; i++) {
                double e = fn.apply(x[i]);
                // the roundings' inputs include infinity and NaN, which must come out as themselves
                assertEquals(e, y[i], Double.isFinite(e) ? FLOAT_VS_DOUBLE * Math.abs(e) + 1e-30 : 0, fn + "(" + x[i] + ")");
            }
        }
    }

    /** Operands per function: comparisons draw from few values so that ties occur. */
    static float[][] binaryInputs(BinaryFn fn, Random r, int n) {
        float[] a, b;
        switch (fn) {
            case POW -> { a = uniform(r, n, 0.1, 4); b = uniform(r, n, -3, 3); }
            case BCE -> { a = uniform(r, n, 0, 1); b = uniform(r, n, 0, 1); if (n > 2) { a[0] = 0f; a[1] = 1f; } }
            case BCE_WITH_LOGITS -> { a = uniform(r, n, -10, 10); b = uniform(r, n, 0, 1); }
            case DIV -> { a = uniform(r, n, -5, 5); b = uniform(r, n, 0.5, 5); }
            case GREATER, GREATER_EQUAL, LESS, LESS_EQUAL, EQUAL, NOT_EQUAL -> {
                a = new float[n]; b = new float[n];
                for (int i = 0; i < n; i++) { a[i] = r.nextInt(3); b[i] = r.nextInt(3); }
            }
            default -> { a = uniform(r, n, -5, 5); b = uniform(r, n, -5, 5); }
        }
        return new float[][] {a, b};
    }

    static boolean binaryTranscendental(BinaryFn fn) { return fn == BinaryFn.POW || fn == BinaryFn.BCE || fn == BinaryFn.BCE_WITH_LOGITS; }

    @Test void everyBinaryVectorRunMatchesScalarTwinForEveryStrideCase() {
        Random r = new Random(3);
        int[][] strides = {{1, 1}, {1, 0}, {0, 1}, {0, 0}, {2, 1}};
        for (BinaryFn fn : BinaryFn.values()) {
            for (int n : SIZES) {
                for (int[] st : strides) {
                    float[][] ab = binaryInputs(fn, r, 2 * n + 1);
                    float[] ys = new float[n], yv = new float[n];
                    SCALAR.binaryRun(fn, ab[0], 1, st[0], ab[1], 0, st[1], ys, 0, n);
                    VEC.binaryRun(fn, ab[0], 1, st[0], ab[1], 0, st[1], yv, 0, n);
                    String what = fn + " n=" + n + " strides " + st[0] + "," + st[1];
                    // BCE sums two logs of O(1..16) size: ulp of the result is not the scale of the error
                    if (binaryTranscendental(fn)) close(what, ys, yv, 1e-6, 2e-6);
                    else close(what, ys, yv, EXACT, 0);
                }
            }
        }
    }

    @Test void scalarBinaryTwinMatchesDoubleMeaning() {
        Random r = new Random(4);
        for (BinaryFn fn : BinaryFn.values()) {
            float[][] ab = binaryInputs(fn, r, 207);
            float[] y = new float[207];
            SCALAR.binaryRun(fn, ab[0], 0, 1, ab[1], 0, 1, y, 0, 207);
            for (int i = 0; i < y.length; i++) {
                double e = fn.apply(ab[0][i], ab[1][i]);
                // BCE at p = 1 is -ln(1e-7)·(1 - z): the float clip 1 - 1e-7 rounds by 2e-8, a 0.2 relative change of ln(1 - q)
                double tol = fn == BinaryFn.BCE && (ab[0][i] >= 1 - 1e-7) ? 0.2 * Math.abs(e) : FLOAT_VS_DOUBLE * (Math.abs(e) + 1) * (binaryTranscendental(fn) ? 4 : 1);
                assertEquals(e, y[i], tol, fn + "(" + ab[0][i] + ", " + ab[1][i] + ")");
            }
        }
    }

    @Test void whereRunMatchesScalarTwinAndSelectsByNonZero() {
        Random r = new Random(5);
        for (int n : SIZES) {
            float[] c = new float[n];
            for (int i = 0; i < n; i++) c[i] = r.nextInt(3) - 1;
            float[] a = uniform(r, n, -1, 1), b = uniform(r, n, -1, 1);
            for (int[] st : new int[][] {{1, 1}, {0, 1}, {1, 0}}) {
                float[] ys = new float[n], yv = new float[n];
                SCALAR.whereRun(c, 0, 1, a, 0, st[0], b, 0, st[1], ys, 0, n);
                VEC.whereRun(c, 0, 1, a, 0, st[0], b, 0, st[1], yv, 0, n);
                close("where n=" + n, ys, yv, EXACT, 0);
                for (int i = 0; i < n; i++) assertEquals(c[i] != 0 ? a[i * st[0]] : b[i * st[1]], ys[i]);
            }
        }
    }

    @Test void broadcastBinaryOverRandomShapesMatchesCoordinateReference() {
        Random r = new Random(6);
        for (int trial = 0; trial < 60; trial++) {
            int rank = 1 + r.nextInt(4);
            int[] out = new int[rank];
            for (int k = 0; k < rank; k++) out[k] = 1 + r.nextInt(trial % 3 == 0 ? 20 : 6);
            Shape os = Shape.of(out), as = randomBroadcastable(r, out), bs = randomBroadcastable(r, out);
            BinaryFn fn = BinaryFn.values()[r.nextInt(BinaryFn.values().length)];
            float[][] ab = binaryInputs(fn, r, Math.max(as.size(), bs.size()));
            StridedView av = StridedView.of(os, as), bv = StridedView.of(os, bs);
            int n = os.size();
            float[] ys = new float[n], yv = new float[n], ref = new float[n];
            SCALAR.binary(fn, ab[0], 0, av, ab[1], 0, bv, ys, 0, n);
            VEC.binary(fn, ab[0], 0, av, ab[1], 0, bv, yv, 0, n);
            for (int p = 0; p < n; p++) ref[p] = ScalarElementwise.apply(fn, ab[0][broadcastIndex(os, as, p)], ab[1][broadcastIndex(os, bs, p)]);
            String what = fn + " " + as + " op " + bs + " -> " + os;
            close(what + " scalar", ref, ys, EXACT, 0);
            if (binaryTranscendental(fn)) close(what, ys, yv, 1e-6, 2e-6);
            else close(what, ys, yv, EXACT, 0);
            // a tile from the middle matches the same elements of the whole
            int start = n / 3, len = n - start;
            float[] tile = new float[len];
            VEC.binary(fn, ab[0], 0, av, ab[1], 0, bv, start, tile, 0, len);
            close(what + " tile", yv, start, tile, 0, len, binaryTranscendental(fn) ? 1e-6 : 0, binaryTranscendental(fn) ? 2e-6 : 0);
        }
    }

    static Shape randomBroadcastable(Random r, int[] out) {
        int drop = r.nextInt(out.length + 1);
        int[] d = new int[out.length - drop];
        for (int k = 0; k < d.length; k++) d[k] = r.nextInt(3) == 0 ? 1 : out[k + drop];
        return Shape.of(d);
    }

    /** The input element feeding output element p, by coordinates: the definition of NumPy broadcasting. */
    static int broadcastIndex(Shape out, Shape in, int p) {
        int[] od = out.dims();
        int idx = 0, mul = 1;
        for (int k = od.length - 1; k >= 0; k--) {
            int c = p % od[k];
            p /= od[k];
            int ik = k - (od.length - in.rank());
            if (ik >= 0) {
                if (in.dim(ik) != 1) idx += c * mul;
                mul *= in.dim(ik);
            }
        }
        return idx;
    }

    @Test void whereOverBroadcastViewsMatchesScalarTwin() {
        Random r = new Random(7);
        Shape out = Shape.of(5, 7, 19);
        float[] c = new float[19];
        for (int i = 0; i < 19; i++) c[i] = r.nextBoolean() ? 1 : 0;
        float[] a = uniform(r, out.size(), -1, 1), b = {42f};
        float[] ys = new float[out.size()], yv = new float[out.size()];
        StridedView cv = StridedView.of(out, Shape.of(19)), av = StridedView.contiguous(out), bv = StridedView.of(out, Shape.SCALAR);
        SCALAR.where(c, 0, cv, a, 0, av, b, 0, bv, ys, 0, out.size());
        VEC.where(c, 0, cv, a, 0, av, b, 0, bv, yv, 0, out.size());
        close("where broadcast", ys, yv, EXACT, 0);
        for (int p = 0; p < out.size(); p++) assertEquals(c[p % 19] != 0 ? a[p] : 42f, yv[p]);
    }
}
