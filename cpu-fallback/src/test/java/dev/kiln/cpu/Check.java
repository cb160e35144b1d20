package dev.kiln.cpu;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/** Shared tolerances, sizes and comparison helpers for the twin tests. */
final class Check {
    private Check() {}

    /** Ops both kernels evaluate with the same correctly rounded IEEE operations: no difference allowed. */
    static final double EXACT = 0;
    /** Vector exp/log/tanh/pow (SVML-style, ~1 ulp) against Math's (~0.5 ulp), after a few dependent float ops. */
    static final int TRANSCENDENTAL_ULPS = 4;
    /** Sums reordered by the vector kernel's four accumulators: relative to Σ|x|, about n·eps for n ≤ 1024. */
    static final double REORDERED_SUM = 2e-6;
    /** Scalar float twin against the double reference: a few float roundings (eps = 6e-8) of O(1) values. */
    static final double FLOAT_VS_DOUBLE = 1e-6;

    static final int L = VectorElementwise.lanes();
    static final int[] SIZES = {1, 4, 13, 16, 25, L - 1, L + 1, 207, 1024};

    static final ElementwiseKernels VEC = new VectorElementwise();
    static final ElementwiseKernels SCALAR = new ScalarElementwise();

    static float[] uniform(Random r, int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return x;
    }

    /** |a - e| <= rel·|e| + abs, element by element, NaN matching NaN. */
    static void close(String what, float[] expected, float[] actual, double rel, double abs) {
        close(what, expected, 0, actual, 0, expected.length, rel, abs);
    }

    static void close(String what, float[] expected, int eOff, float[] actual, int aOff, int n, double rel, double abs) {
        for (int i = 0; i < n; i++) {
            float e = expected[eOff + i], a = actual[aOff + i];
            if (Float.isNaN(e) && Float.isNaN(a)) continue;
            if (e == a) continue;
            if (!(Math.abs(a - e) <= rel * Math.abs(e) + abs)) fail(what + ": element " + i + " expected " + e + " but was " + a + " (rel " + rel + ", abs " + abs + ")");
        }
    }

    /** Within {@code ulps} units in the last place of the expected value (or of the smallest normal near 0). */
    static void ulps(String what, float[] expected, float[] actual, int ulps) {
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            if (Float.isNaN(e) && Float.isNaN(a)) continue;
            if (e == a) continue;
            double unit = Math.max(Math.ulp(e), Math.ulp(Float.MIN_NORMAL));
            if (!(Math.abs(a - e) <= ulps * unit)) fail(what + ": element " + i + " expected " + e + " but was " + a + " (" + Math.abs(a - e) / unit + " ulp > " + ulps + ")");
        }
    }
}
