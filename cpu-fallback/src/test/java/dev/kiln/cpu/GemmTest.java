package dev.kiln.cpu;

import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class GemmTest {
    private static final int[] SIZES = {1, 3, 13, 16, 17, 33, 64, 100};

    static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = r.nextFloat() * 2 - 1;
        return x;
    }

    /**
     * FMA and blocking reorder a k-term float sum; rounding error grows like sqrt(k)·eps. We allow
     * 1e-5·sqrt(k) relative to the sum of |terms| (the sum's condition), plus 1e-6 absolute for k = 0 cases.
     */
    static void assertClose(float[] expected, float[] actual, double scale, String what) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > scale) {
                fail(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i] + " (tolerance " + scale + ")");
            }
        }
    }

    @Test
    void gemmMatchesScalarTwinForAllSizesAndTransposes() {
        Random r = new Random(42);
        int cases = 0;
        for (int m : SIZES) for (int n : SIZES) for (int k : SIZES) {
            if (r.nextInt(4) != 0 && !(m == 100 && n == 100 && k == 100)) continue; // a seeded quarter of the 512 triples
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                boolean acc = r.nextBoolean();
                // padded leading dimensions and offsets catch stride and offset mix-ups
                int lda = (ta ? m : k) + r.nextInt(3), ldb = (tb ? k : n) + r.nextInt(3), ldc = n + r.nextInt(3);
                int aOff = r.nextInt(5), bOff = r.nextInt(5), cOff = r.nextInt(5);
                float[] a = random(r, aOff + (ta ? k : m) * lda);
                float[] b = random(r, bOff + (tb ? n : k) * ldb);
                float[] c0 = random(r, cOff + m * ldc);
                float[] expected = c0.clone(), actual = c0.clone();
                GemmScalar.gemm(ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, expected, cOff, ldc, acc);
                Gemm.gemm(WorkerPoolTest.POOL, ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, actual, cOff, ldc, acc);
                // entries are in [-1, 1): |terms| sum to at most k (+1 for C)
                assertClose(expected, actual, 1e-5 * Math.sqrt(k) * (k + 1),
                            "m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb + " acc=" + acc);
                cases++;
            }
        }
        assertTrue(cases > 400, "ran " + cases + " cases");
    }

    @Test
    void gemmWithZeroDepthWritesZerosOrKeepsC() {
        float[] c = {1, 2, 3, 4};
        Gemm.gemm(WorkerPoolTest.POOL, false, false, 2, 2, 0, new float[0], 0, 1, new float[0], 0, 2, c, 0, 2, true);
        assertArrayEquals(new float[] {1, 2, 3, 4}, c);
        Gemm.gemm(WorkerPoolTest.POOL, false, false, 2, 2, 0, new float[0], 0, 1, new float[0], 0, 2, c, 0, 2, false);
        assertArrayEquals(new float[] {0, 0, 0, 0}, c);
    }

    @Test
    void gemmLeavesElementsOutsideTheOutputUntouched() {
        Random r = new Random(7);
        int m = 17, n = 33, k = 13, ldc = 40;
        float[] a = random(r, m * k), b = random(r, k * n);
        float[] c = new float[m * ldc + 3];
        java.util.Arrays.fill(c, 9f);
        Gemm.gemm(WorkerPoolTest.POOL, false, false, m, n, k, a, 0, k, b, 0, n, c, 3, ldc, false);
        for (int i = 0; i < m; i++) for (int j = n; j < ldc && 3 + i * ldc + j < c.length; j++) assertEquals(9f, c[3 + i * ldc + j]);
        for (int i = 0; i < 3; i++) assertEquals(9f, c[i]);
    }

    @Test
    void batchedMatmulWithBroadcastMatchesTwin() {
        Random r = new Random(3);
        Shape[][] pairs = {
            {Shape.of(2, 3, 13, 17), Shape.of(3, 17, 5)},       // B broadcasts over the leading axis
            {Shape.of(4, 1, 7, 9), Shape.of(1, 3, 9, 33)},      // both broadcast
            {Shape.of(5, 16, 17), Shape.of(17, 33)},            // folds into one tall GEMM
            {Shape.of(13, 17), Shape.of(6, 17, 3)},             // A broadcasts
            {Shape.of(1, 1), Shape.of(1, 1)},
        };
        for (Shape[] p : pairs) for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            Shape sa = ta ? swapLast(p[0]) : p[0], sb = tb ? swapLast(p[1]) : p[1];
            MatMulPlan plan = MatMulPlan.of(sa, sb, ta, tb);
            float[] a = random(r, sa.size() + 2), b = random(r, sb.size() + 1);
            float[] expected = new float[plan.outputShape().size() + 4], actual = new float[expected.length];
            GemmScalar.matmul(plan, a, 2, b, 1, expected, 4);
            Gemm.matmul(WorkerPoolTest.POOL, plan, a, 2, b, 1, actual, 4);
            int k = plan.k();
            assertClose(expected, actual, 1e-5 * Math.sqrt(k) * k, plan + " " + sa + " " + sb);
            // and against a per-batch definition that does not use the plan's offsets
            float[] direct = new float[expected.length];
            bruteForceBatched(sa, sb, ta, tb, a, 2, b, 1, direct, 4);
            assertClose(direct, actual, 1e-5 * Math.sqrt(k) * k, "brute force " + sa + " " + sb);
        }
    }

    private static Shape swapLast(Shape s) {
        int[] d = s.dims();
        int t = d[d.length - 1]; d[d.length - 1] = d[d.length - 2]; d[d.length - 2] = t;
        return Shape.of(d);
    }

    // C[b..., i, j] = Σ_p A[bA..., i, p]·B[bB..., p, j] with NumPy broadcasting of the batch indices
    private static void bruteForceBatched(Shape sa, Shape sb, boolean ta, boolean tb, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        Shape out = new dev.kiln.graph.MatMul(ta, tb).inferShape(java.util.List.of(sa, sb));
        int rank = out.rank(), m = out.dim(-2), n = out.dim(-1), k = ta ? sa.dim(-2) : sa.dim(-1);
        int batches = out.sizeOf(0, rank - 2);
        for (int bi = 0; bi < batches; bi++) {
            int[] idx = new int[rank - 2];
            for (int ax = rank - 3, rest = bi; ax >= 0; ax--) { idx[ax] = rest % out.dim(ax); rest /= out.dim(ax); }
            int ao = aOff + batchOffset(sa, idx), bo = bOff + batchOffset(sb, idx);
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    float x = ta ? a[ao + p * m + i] : a[ao + i * k + p];
                    float y = tb ? b[bo + j * k + p] : b[bo + p * n + j];
                    s += x * y;
                }
                c[cOff + (bi * m + i) * n + j] = s;
            }
        }
    }

    private static int batchOffset(Shape s, int[] outIdx) {
        int off = 0, stride = s.dim(-1) * s.dim(-2);
        for (int ax = s.rank() - 3, o = outIdx.length - 1; ax >= 0; ax--, o--) {
            int d = s.dim(ax);
            if (d != 1) off += outIdx[o] * stride;
            stride *= d;
        }
        return off;
    }

    @Test
    void gemmMatchesScalarTwinAcrossSeveralKSlicesAndNPanels() {
        Random r = new Random(12);
        // past both blocking limits, with ragged last slice and panel: exercises the accumulate-into-C path
        // between K slices and the repacking of A per NC panel, on every transpose
        int m = 3 * Gemm.MR + 1, n = Gemm.NC + 45, k = Gemm.KC + 77;
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            float[] a = random(r, m * k), b = random(r, k * n);
            float[] expected = new float[m * n], actual = new float[m * n];
            GemmScalar.gemm(ta, tb, m, n, k, a, 0, ta ? m : k, b, 0, tb ? k : n, expected, 0, n, false);
            Gemm.gemm(WorkerPoolTest.POOL, ta, tb, m, n, k, a, 0, ta ? m : k, b, 0, tb ? k : n, actual, 0, n, false);
            assertClose(expected, actual, 1e-5 * Math.sqrt(k) * k, "m=" + m + " n=" + n + " k=" + k + " ta=" + ta + " tb=" + tb);
        }
    }

    @Test
    void gemmResultsAreIdenticalWithOneAndTwoThreads() {
        Random r = new Random(11);
        int m = 100, n = 130, k = Gemm.KC + 44;  // k > KC: several K slices; many tiles
        float[] a = random(r, m * k), b = random(r, k * n);
        float[] one = new float[m * n], two = new float[m * n];
        WorkerPool p1 = new WorkerPool(1), p2 = new WorkerPool(2);
        Gemm.gemm(p1, false, true, m, n, k, a, 0, k, b, 0, k, one, 0, n, false);
        Gemm.gemm(p2, false, true, m, n, k, a, 0, k, b, 0, k, two, 0, n, false);
        assertArrayEquals(one, two);
    }

    /**
     * Rows enough for the threads to share packed B panels (Gemm.SHARED_PANEL_ROWS a thread): several K slices and,
     * in the wide shape, two N panels; transposed operands, accumulation and the bias-ReLU epilogue. Same bits on
     * 1, 2 and 3 threads (1 runs output tiles, 2 and 3 the shared panels), and close to the scalar twin.
     */
    @Test
    void sharedPanelGemmIsIdenticalOnOneTwoAndThreeThreads() {
        Random r = new Random(29);
        WorkerPool[] pools = {new WorkerPool(1), new WorkerPool(2), new WorkerPool(3)};
        int[][] shapes = {{3 * Gemm.SHARED_PANEL_ROWS + 5, Gemm.NC + 70, Gemm.KC + 37}, {301, 257, 2 * Gemm.KC + 11}};
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1], k = sh[2];
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0, acc = t == 2;
                int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 3, ldc = n + 2;
                float[] a = random(r, 2 + (ta ? k : m) * lda), b = random(r, 1 + (tb ? n : k) * ldb);
                float[] bias = random(r, n), c0 = random(r, m * ldc);
                float[] expected = c0.clone();
                GemmScalar.gemm(ta, tb, m, n, k, a, 2, lda, b, 1, ldb, expected, 0, ldc, acc, bias, 0, dev.kiln.graph.Epilogue.Activation.RELU);
                float[] first = null;
                for (WorkerPool pool : pools) {
                    float[] actual = c0.clone();
                    Gemm.gemm(pool, ta, tb, m, n, k, a, 2, lda, b, 1, ldb, actual, 0, ldc, acc, bias, 0, dev.kiln.graph.Epilogue.Activation.RELU);
                    String what = m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " threads=" + pool.threads();
                    assertClose(expected, actual, 1e-5 * Math.sqrt(k) * (k + 2), what);
                    if (first == null) first = actual;
                    else assertArrayEquals(first, actual, what);
                }
            }
        }
    }

    @Test
    void thinGemmSplitOverThreadsMatchesTwinAndIsIdenticalForEveryThreadCount() {
        // big enough for the thin path to go parallel (parallelForAffine), odd column counts so the per-thread
        // chunks end mid-vector; n = 1 with many rows is the transposed thin form, with few rows the dot form
        int[][] shapes = {{1, 517, 263}, {3, 301, 611}, {4, 515, 70}, {300, 1, 501}, {1, 1, 5003}, {3, 1, 1500}};
        Random r = new Random(17);
        WorkerPool[] pools = {new WorkerPool(1), new WorkerPool(2), new WorkerPool(3)};
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1], k = sh[2];
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0, acc = t == 1;
                int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + (n == 1 ? 0 : 2), ldc = n == 1 ? 1 : n + 1;
                float[] a = random(r, 3 + (ta ? k : m) * lda), b = random(r, 1 + (tb ? n : k) * ldb);
                float[] bias = random(r, n), c0 = random(r, m * ldc);
                float[] expected = c0.clone();
                GemmScalar.gemm(ta, tb, m, n, k, a, 3, lda, b, 1, ldb, expected, 0, ldc, acc, bias, 0, dev.kiln.graph.Epilogue.Activation.RELU);
                float[] first = null;
                for (WorkerPool pool : pools) {
                    for (int rep = 0; rep < 3; rep++) {
                        float[] actual = c0.clone();
                        Gemm.gemm(pool, ta, tb, m, n, k, a, 3, lda, b, 1, ldb, actual, 0, ldc, acc, bias, 0, dev.kiln.graph.Epilogue.Activation.RELU);
                        String what = m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " threads=" + pool.threads();
                        assertClose(expected, actual, 1e-5 * Math.sqrt(k) * (k + 2), what);
                        if (first == null) first = actual;
                        else assertArrayEquals(first, actual, what);
                    }
                }
            }
        }
    }

    /**
     * m = 1 with B not transposed keeps C in registers and peels a head so B loads start on cache lines; every
     * element must still be the one fma chain in p order (from 0, or from C when accumulating), bit for bit, at
     * every B offset (so every alignment phase), with ldb a multiple of 16 (peeled) or not, on 1-3 threads.
     */
    @Test
    void oneRowGemmIsTheExactFmaChainAtEveryAlignmentAndThreadCount() {
        Random r = new Random(23);
        WorkerPool[] pools = {new WorkerPool(1), new WorkerPool(2), new WorkerPool(3)};
        int[] ns = {16, 17, 31, 33, 47, 144, 160, 263, 512, 517};
        int cases = 0;
        for (int n : ns) {
            for (int bOff = 0; bOff < 17; bOff += (n < 200 ? 1 : 5)) {
                int k = 4096 / n + 1 + r.nextInt(300); // above TINY_FLOPS, which go to the twin
                boolean ta = r.nextBoolean(), acc = r.nextBoolean();
                int ldb = r.nextBoolean() ? (n + 15) / 16 * 16 : n + 1 + r.nextInt(3);
                int lda = ta ? 3 : k, aOff = r.nextInt(3);
                float[] a = random(r, aOff + (ta ? k * lda : k)), b = random(r, bOff + k * ldb);
                float[] c0 = random(r, 2 + n + 3);
                float[] expected = c0.clone();
                for (int j = 0; j < n; j++) {
                    float s = acc ? c0[2 + j] : 0f;
                    for (int p = 0; p < k; p++) s = Math.fma(a[aOff + (ta ? p * lda : p)], b[bOff + p * ldb + j], s);
                    expected[2 + j] = s;
                }
                float[] twin = c0.clone();
                GemmScalar.gemm(ta, false, 1, n, k, a, aOff, lda, b, bOff, ldb, twin, 2, n, acc);
                assertClose(twin, expected, 1e-5 * Math.sqrt(k) * (k + 1), "reference vs twin");
                for (WorkerPool pool : pools) {
                    float[] actual = c0.clone();
                    Gemm.gemm(pool, ta, false, 1, n, k, a, aOff, lda, b, bOff, ldb, actual, 2, n, acc);
                    assertArrayEquals(expected, actual, "1x" + n + "x" + k + " bOff=" + bOff + " ldb=" + ldb
                            + " ta=" + ta + " acc=" + acc + " threads=" + pool.threads());
                    cases++;
                }
            }
        }
        assertTrue(cases > 300, "ran " + cases + " cases");
    }

    @Test
    void floatPhaseCountsElementsToTheNextCacheLine() {
        float[] big = new float[1 << 18]; // humongous under G1: does not move between the calls
        int p0 = Addresses.floatPhase(big, 0);
        assertTrue(p0 >= 0 && p0 < 16, "phase " + p0 + " (tests run with native access, so it must be known)");
        for (int off = 1; off < 40; off++) {
            assertEquals(Math.floorMod(p0 - off, 16), Addresses.floatPhase(big, off), "offset " + off);
        }
    }

    @Test
    void gemmAndMatmulAllocateNothingAfterWarmUp() {
        Random r = new Random(5);
        int m = 64, n = 100, k = 33;
        float[] a = random(r, m * k), b = random(r, k * n), c = new float[m * n];
        MatMulPlan plan = MatMulPlan.of(Shape.of(3, 2, 16, 20), Shape.of(2, 20, 17), false, false);
        float[] pa = random(r, 3 * 2 * 16 * 20), pb = random(r, 2 * 20 * 17), pc = new float[plan.outputShape().size()];
        WorkerPool pool = new WorkerPool(2), single = new WorkerPool(1);
        float[] ga = random(r, 520), gb = random(r, 5 + 512 * 528), gc = new float[512];
        Runnable calls = () -> {
            Gemm.gemm(pool, false, false, m, n, k, a, 0, k, b, 0, n, c, 0, n, false);
            Gemm.gemm(pool, true, true, 3, 5, 7, a, 0, 3, b, 0, 7, c, 0, 5, true);
            Gemm.matmul(pool, plan, pa, 0, pb, 0, pc, 0);
            // the one-row path (C in registers, address read for alignment) on one thread and split over two
            Gemm.gemm(pool, false, false, 1, 512, 512, ga, 0, 512, gb, 5, 528, gc, 0, 512, false);
            Gemm.gemm(single, true, false, 1, 300, 170, ga, 1, 3, gb, 0, 304, gc, 0, 300, true);
        };
        // the one-row kernels run ~1,000 calls on the allocating Vector API fallback before C2 compiles them whole
        for (int i = 0; i < 3000; i++) calls.run();
        long bytes = WorkerPoolTest.allocatedBytes(calls, 100);
        assertEquals(0, bytes, "bytes allocated by 100 rounds of gemm/matmul calls");
    }
}
