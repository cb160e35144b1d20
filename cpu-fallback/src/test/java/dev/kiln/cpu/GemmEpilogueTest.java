package dev.kiln.cpu;

import dev.kiln.graph.Epilogue;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.kiln.cpu.GemmTest.assertClose;
import static dev.kiln.cpu.GemmTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The thin (few-row and n = 1) paths and the bias/activation epilogue against the scalar twin. */
class GemmEpilogueTest {
    // thin rows (1..4), the first packed size (5), and a tall one; n and k around the vector length, 4L and KC
    private static final int[] MS = {1, 2, 3, 4, 5, 13};
    private static final int[] NS = {1, 4, 15, 16, 17, 64, 65, 130};
    private static final int[] KS = {0, 1, 11, 16, 63, 129, 300};

    @Test
    void thinAndEpiloguePathsMatchScalarTwin() {
        Random r = new Random(21);
        Epilogue.Activation[] acts = Epilogue.Activation.values();
        int cases = 0;
        for (int m : MS) for (int n : NS) for (int k : KS) for (int t = 0; t < 4; t++) {
            if (r.nextInt(3) != 0 && !(m == 1 && k == 300)) continue;   // a seeded third, plus every batch-1 GEMV
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0, acc = r.nextBoolean(), withBias = r.nextInt(4) != 0;
            Epilogue.Activation act = acts[r.nextInt(acts.length)];
            // n = 1 with ldc = 1 takes the transposed thin path; a padded ldc keeps it on the packed one
            int lda = (ta ? m : k) + r.nextInt(3), ldb = (tb ? k : n) + r.nextInt(3), ldc = n == 1 && r.nextBoolean() ? 1 : n + r.nextInt(3);
            int aOff = r.nextInt(5), bOff = r.nextInt(5), cOff = r.nextInt(5), biasOff = r.nextInt(3);
            float[] a = random(r, aOff + (ta ? k : m) * Math.max(lda, 1) + m);
            float[] b = random(r, bOff + (tb ? n : k) * Math.max(ldb, 1) + n);
            float[] bias = withBias ? random(r, biasOff + n) : null;
            float[] c0 = random(r, cOff + m * ldc);
            float[] expected = c0.clone(), actual = c0.clone();
            GemmScalar.gemm(ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, expected, cOff, ldc, acc, bias, biasOff, act);
            Gemm.gemm(WorkerPoolTest.POOL, ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, actual, cOff, ldc, acc, bias, biasOff, act);
            // |terms| sum to at most k (+1 for C, +1 for bias); activations are 1-Lipschitz, and the vector
            // library's exp/tanh differ from Math's by a few ulp (1e-6 absolute covers it)
            assertClose(expected, actual, 1e-5 * Math.sqrt(k + 1) * (k + 2) + 1e-6,
                    "m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " acc=" + acc + " bias=" + withBias + " act=" + act + " ldc=" + ldc);
            cases++;
        }
        assertTrue(cases > 300, "ran " + cases + " cases");
    }

    @Test
    void reluEpilogueMapsNaNToZeroAsTheTwin() {
        float[] a = {Float.NaN, 1f}, b = {1f, 1f}, bias = {0.5f};
        float[] c = new float[2], twin = new float[2];
        // C[2×1] = A[2×1]·B[1×1] + bias: NaN row → relu → 0, the other 1.5
        Gemm.gemm(WorkerPoolTest.POOL, false, false, 2, 1, 1, a, 0, 1, b, 0, 1, c, 0, 1, false, bias, 0, Epilogue.Activation.RELU);
        GemmScalar.gemm(false, false, 2, 1, 1, a, 0, 1, b, 0, 1, twin, 0, 1, false, bias, 0, Epilogue.Activation.RELU);
        assertArrayEquals(new float[] {0f, 1.5f}, c);
        assertArrayEquals(twin, c);
    }

    @Test
    void thinPathResultsAreIdenticalWithOneAndTwoThreads() {
        Random r = new Random(12);
        WorkerPool p1 = new WorkerPool(1), p2 = new WorkerPool(2);
        int[][] shapes = {{1, 517, 300}, {3, 1300, 300}, {300, 1, 517}, {2, 4000, 150}};  // the last two above THIN_PARALLEL_FLOPS
        for (int[] s : shapes) for (int t = 0; t < 4; t++) {
            int m = s[0], n = s[1], k = s[2];
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            float[] a = random(r, m * k), b = random(r, k * n), bias = random(r, n);
            float[] one = new float[m * n], two = new float[m * n];
            Gemm.gemm(p1, ta, tb, m, n, k, a, 0, ta ? m : k, b, 0, tb ? k : n, one, 0, n, false, bias, 0, Epilogue.Activation.RELU);
            Gemm.gemm(p2, ta, tb, m, n, k, a, 0, ta ? m : k, b, 0, tb ? k : n, two, 0, n, false, bias, 0, Epilogue.Activation.RELU);
            assertArrayEquals(one, two, m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb);
        }
    }

    @Test
    void batchedMatmulWithBiasMatchesTwinOnThinAndPackedPaths() {
        Random r = new Random(8);
        Shape[][] pairs = {{Shape.of(2, 3, 17), Shape.of(2, 17, 40)}, {Shape.of(3, 9, 20), Shape.of(3, 20, 1)}, {Shape.of(4, 1, 33), Shape.of(4, 33, 70)}};
        for (Shape[] p : pairs) for (Epilogue.Activation act : Epilogue.Activation.values()) {
            MatMulPlan plan = MatMulPlan.of(p[0], p[1], false, false);
            float[] a = random(r, p[0].size()), b = random(r, p[1].size()), bias = random(r, plan.n() + 1);
            float[] expected = new float[plan.outputShape().size()], actual = new float[expected.length];
            GemmScalar.matmul(plan, a, 0, b, 0, expected, 0, bias, 1, act);
            Gemm.matmul(WorkerPoolTest.POOL, plan, a, 0, b, 0, actual, 0, bias, 1, act);
            assertClose(expected, actual, 1e-5 * Math.sqrt(plan.k()) * (plan.k() + 1) + 1e-6, plan + " " + act);
        }
    }

    @Test
    void thinAndEpiloguePathsAllocateNothingAfterWarmUp() {
        Random r = new Random(9);
        float[] a = random(r, 300 * 64), b = random(r, 64 * 300), bias = random(r, 300), c = new float[300 * 300];
        WorkerPool pool = new WorkerPool(2);
        Runnable calls = () -> {
            Gemm.gemm(pool, false, false, 1, 300, 64, a, 0, 64, b, 0, 300, c, 0, 300, false, bias, 0, Epilogue.Activation.RELU);
            Gemm.gemm(pool, true, true, 3, 300, 64, a, 0, 3, b, 0, 64, c, 0, 300, false, bias, 0, Epilogue.Activation.SIGMOID);
            Gemm.gemm(pool, false, false, 300, 1, 64, a, 0, 64, b, 0, 1, c, 0, 1, false, bias, 0, Epilogue.Activation.NONE);
            Gemm.gemm(pool, false, false, 64, 300, 64, a, 0, 64, b, 0, 300, c, 0, 300, false, bias, 0, Epilogue.Activation.TANH);
        };
        for (int i = 0; i < 300; i++) calls.run();
        assertEquals(0, WorkerPoolTest.allocatedBytes(calls, 100), "bytes allocated by 100 rounds of thin and epilogue GEMMs");
    }
}
