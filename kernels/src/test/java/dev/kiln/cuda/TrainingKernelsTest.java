package dev.kiln.cuda;

import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.emu.TestDevice;
import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.emu.Nvcc;
import dev.kiln.cuda.ffi.KernelArgs;
import dev.kiln.graph.Philox;
import dev.kiln.testing.BatchNormStep;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.kiln.cuda.emu.EmulatedDevice.floats;
import static dev.kiln.cuda.emu.EmulatedDevice.launch;
import static dev.kiln.cuda.emu.EmulatedDevice.upload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The training kernels (broadcast.cu, reduce.cu, softmax.cu, dropout.cu, optimizers.cu,
 * batchnorm.cu) compiled by nvcc and run on the test device (the emulated one here, a GPU where present) against CPU references at odd
 * sizes, broadcast shapes and special values. Tolerances: exact where the kernel's order of float
 * operations is reproduced in Java; otherwise against a double reference, within a few float ulps
 * of the magnitudes involved (expf/logf are libdevice's, within 2 ulp).
 */
class TrainingKernelsTest {
    private CudaDriver cuda;

    @BeforeEach void start() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        cuda = TestDevice.open();
    }

    @AfterEach void close() { TestDevice.close(cuda); }

    private long function(KernelSource source, String name) {
        return cuda.moduleGetFunction(cuda.moduleLoadData(Nvcc.ptx(source.resource(), source.text())), name);
    }

    private static float[] random(Random r, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian() * scale;
        return x;
    }

    // ---- broadcasting

    @Test
    void binaryOpsBroadcastRowsColumnsAndScalarsWithSpecialValues() {
        long fn = function(KernelSource.BROADCAST, "kiln_binary_broadcast_f32");
        int[][][] shapes = {{{3, 1, 5}, {4, 1}}, {{7}, {1}}, {{2, 3, 4, 5}, {5}}, {{13, 1}, {1, 17}}, {{1}, {2, 1, 3}}};
        Random r = new Random(11);
        for (int[][] s : shapes) for (int op = 0; op < 6; op++) {
            int[] out = broadcastShape(s[0], s[1]);
            float[] a = random(r, product(s[0]), 2f), b = random(r, product(s[1]), 2f);
            float[] special = {Float.NaN, Float.POSITIVE_INFINITY, -0f, 0f, Float.NEGATIVE_INFINITY};
            for (int k = 0; k < Math.min(a.length, special.length); k++) a[k] = special[k];
            if (b.length > 2) { b[0] = 0f; b[1] = -0f; }
            int n = product(out);
            long da = upload(cuda, a), db = upload(cuda, b), dout = cuda.memAlloc(4L * n);
            int[] o4 = pad4(out), sa = strides4(s[0], out), sb = strides4(s[1], out);
            launch(cuda, fn, 2, 64, 0, KernelArgs.of().pointer(da).pointer(db).pointer(dout).i32(op)
                    .i32(o4[0]).i32(o4[1]).i32(o4[2]).i32(o4[3]).i32(sa[0]).i32(sa[1]).i32(sa[2]).i32(sa[3])
                    .i32(sb[0]).i32(sb[1]).i32(sb[2]).i32(sb[3]));
            float[] got = floats(cuda, dout, n);
            for (int i = 0; i < n; i++) {
                int[] idx = unravel(i, o4);
                float x = a[dot(idx, sa)], y = b[dot(idx, sb)];
                float want = switch (op) {
                    case 0 -> x + y; case 1 -> x - y; case 2 -> x * y; case 3 -> x / y;
                    case 4 -> Math.max(x, y); default -> Math.min(x, y);
                };
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]),
                        "op " + op + " shapes " + java.util.Arrays.deepToString(s) + " at " + i + ": " + x + ", " + y + " -> " + got[i]);
            }
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    static int product(int[] s) { int p = 1; for (int d : s) p *= d; return p; }

    static int[] broadcastShape(int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)], db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            out[i] = Math.max(da, db);
        }
        return out;
    }

    static int[] pad4(int[] s) {
        int[] o = {1, 1, 1, 1};
        System.arraycopy(s, 0, o, 4 - s.length, s.length);
        return o;
    }

    /** Element strides of operand shape s right-aligned to out (rank 4), 0 along broadcast axes. */
    static int[] strides4(int[] s, int[] out) {
        int[] p = pad4(s), o = pad4(out), st = new int[4];
        int stride = 1;
        for (int i = 3; i >= 0; i--) { st[i] = p[i] == 1 && o[i] != 1 ? 0 : stride; stride *= p[i]; }
        return st;
    }

    static int[] unravel(int i, int[] d) {
        int[] idx = new int[4];
        for (int k = 3; k >= 0; k--) { idx[k] = i % d[k]; i /= d[k]; }
        return idx;
    }

    static int dot(int[] a, int[] b) { int s = 0; for (int i = 0; i < 4; i++) s += a[i] * b[i]; return s; }

    // ---- reductions

    @Test
    void rowSumsFollowTheWrittenOrderBitForBitAndColumnSumsAddInRowOrder() {
        long rowsFn = function(KernelSource.REDUCE, "kiln_sum_rows_f32"), colsFn = function(KernelSource.REDUCE, "kiln_sum_cols_f32");
        Random r = new Random(5);
        for (int[] shape : new int[][] {{1, 1}, {3, 13}, {5, 257}, {2, 1000}}) for (int threads : new int[] {32, 96}) {
            int rows = shape[0], cols = shape[1];
            float[] x = random(r, rows * cols, 10f);
            long dx = upload(cuda, x), drow = cuda.memAlloc(4L * rows), dcol = cuda.memAlloc(4L * cols);
            launch(cuda, rowsFn, 2, threads, 0, KernelArgs.of().pointer(dx).pointer(drow).i32(rows).i32(cols));
            launch(cuda, colsFn, 2, threads, 0, KernelArgs.of().pointer(dx).pointer(dcol).i32(rows).i32(cols));
            float[] gotRows = floats(cuda, drow, rows), gotCols = floats(cuda, dcol, cols);
            for (int row = 0; row < rows; row++) {
                float[] acc = new float[threads];
                for (int c = 0; c < cols; c++) acc[c % threads] += x[row * cols + c];
                assertEquals(blockSumInKernelOrder(acc), gotRows[row], 0f, "row " + row + " of " + rows + "x" + cols + ", " + threads + " threads");
            }
            for (int c = 0; c < cols; c++) {
                float s = 0f;
                for (int row = 0; row < rows; row++) s += x[row * cols + c];
                assertEquals(s, gotCols[c], 0f, "column " + c + " of " + rows + "x" + cols);
            }
            EmulatedDevice.CASES.addAndGet(2);
        }
    }

    /** reduce_block.cuh's order: shuffle-down within each warp, then over the warps' totals in warp 0. */
    static float blockSumInKernelOrder(float[] perThread) {
        int warps = perThread.length / 32;
        float[] totals = new float[32];
        for (int w = 0; w < warps; w++) totals[w] = warpSum(java.util.Arrays.copyOfRange(perThread, 32 * w, 32 * w + 32));
        return warpSum(totals);
    }

    static float warpSum(float[] v) {
        for (int off = 16; off > 0; off >>= 1) {
            float[] next = new float[32];
            for (int l = 0; l < 32; l++) next[l] = v[l] + (l + off < 32 ? v[l + off] : v[l]);
            v = next;
        }
        return v[0];
    }

    // ---- softmax cross-entropy

    @Test
    void softmaxCrossEntropyLossAndGradientMatchADoubleReference() {
        long fn = function(KernelSource.SOFTMAX, "kiln_softmax_xent_f32");
        Random r = new Random(3);
        for (int classes : new int[] {1, 10, 37, 300}) {
            int rows = 5;
            float[] z = random(r, rows * classes, 4f), y = new float[rows * classes], dloss = random(r, rows, 1f);
            for (int row = 0; row < rows; row++) {
                if (row % 2 == 0) y[row * classes + r.nextInt(classes)] = 1f;   // one-hot
                else for (int c = 0; c < classes; c++) y[row * classes + c] = 1f / classes;   // smoothed
            }
            z[0] = 80f;                                   // large logits stay finite: the max is subtracted
            if (classes > 2) z[classes + 1] = -1e30f;     // a class with probability 0
            long dz = upload(cuda, z), dy = upload(cuda, y), dl = cuda.memAlloc(4L * rows), dg = upload(cuda, dloss), dd = cuda.memAlloc(4L * rows * classes);
            launch(cuda, fn, 2, 64, 0, KernelArgs.of().pointer(dz).pointer(dy).pointer(dl).pointer(dg).pointer(dd).i32(rows).i32(classes));
            float[] loss = floats(cuda, dl, rows), grad = floats(cuda, dd, rows * classes);
            for (int row = 0; row < rows; row++) {
                double m = Double.NEGATIVE_INFINITY, s = 0, l = 0, ysum = 0;
                for (int c = 0; c < classes; c++) m = Math.max(m, z[row * classes + c]);
                for (int c = 0; c < classes; c++) s += Math.exp(z[row * classes + c] - m);
                double scale = 0;
                for (int c = 0; c < classes; c++) {
                    double lp = z[row * classes + c] - m - Math.log(s);
                    l -= y[row * classes + c] * lp;
                    ysum += y[row * classes + c];
                    scale += Math.abs(y[row * classes + c] * lp);
                }
                assertEquals(l, loss[row], 1e-5 * scale + 1e-6, "loss of row " + row + ", " + classes + " classes");
                for (int c = 0; c < classes; c++) {
                    int i = row * classes + c;
                    double want = dloss[row] * (Math.exp(z[i] - m) / s * ysum - y[i]);
                    assertEquals(want, grad[i], 1e-5 * Math.abs(dloss[row]) + 1e-6, "dlogits[" + row + "," + c + "], " + classes + " classes");
                }
            }
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    // ---- dropout

    @Test
    void dropoutMasksAreBitIdenticalToTheCpusPhilox() {
        long fn = function(KernelSource.DROPOUT, "kiln_dropout_f32");
        Random r = new Random(9);
        for (double rate : new double[] {0.0, 0.2, 0.5, 0.9}) for (int n : new int[] {1, 3, 13, 1001}) {
            long seed = r.nextLong(), step = r.nextInt(1000);
            float[] x = random(r, n, 1f);
            if (n > 3) { x[0] = Float.NaN; x[1] = Float.POSITIVE_INFINITY; x[2] = -0f; }
            long dx = upload(cuda, x), dyv = cuda.memAlloc(4L * n), ds = upload(cuda, new float[] {step});
            float scale = (float) (1.0 / (1.0 - rate));
            int threshold = (int) Math.ceil(rate * 0x1p24);
            launch(cuda, fn, 2, 32, 0, KernelArgs.of().pointer(dx).pointer(dyv).pointer(ds)
                    .i32((int) seed).i32((int) (seed >>> 32)).i32(threshold).f32(scale).i64(n));
            float[] got = floats(cuda, dyv, n);
            for (int i = 0; i < n; i++) {
                float want = Philox.keep(seed, step, i, rate) ? x[i] * scale : 0f;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), "rate " + rate + " n " + n + " element " + i);
            }
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    // ---- optimizers

    @Test
    void sgdWithMomentumNesterovAndWeightDecayMatchesTheInterpreter() {
        long fn = function(KernelSource.OPTIMIZERS, "kiln_sgd_update_f32");
        Random r = new Random(21);
        double[][] configs = {{0, 0, 0}, {0.9, 0, 0}, {0.9, 1, 1e-2}, {0.5, 0, 1e-3}};   // momentum, nesterov, weight decay
        for (double[] cfg : configs) for (int n : new int[] {1, 13, 257}) {
            float mu = (float) cfg[0], wd = (float) cfg[2], lr = 0.05f;
            float[] p = random(r, n, 1f), g = random(r, n, 0.1f), v = random(r, n, 0.01f);
            long dp = upload(cuda, p), dg = upload(cuda, g), dv = mu != 0 ? upload(cuda, v) : 0, dlr = upload(cuda, new float[] {lr});
            long dbad = upload(cuda, ElementwiseKernelsTest.nonFinite(n));   // what a skipped step's gradient holds
            for (long apply : new long[] {0, upload(cuda, new float[] {0f})}) {   // null: always; a 0 flag: a skipped step, run second
                launch(cuda, fn, 2, 64, 0, KernelArgs.of().pointer(dp).pointer(apply == 0 ? dg : dbad).pointer(dv).pointer(dlr).pointer(apply).f32(mu).f32(wd).i32((int) cfg[1]).i64(n));
            }
            float[] gp = floats(cuda, dp, n), gv = mu != 0 ? floats(cuda, dv, n) : null;
            for (int i = 0; i < n; i++) {
                double gi = g[i] + (double) wd * p[i], d = gi, vel = 0;
                if (mu != 0) { vel = mu * (double) v[i] + gi; d = cfg[1] != 0 ? gi + mu * vel : vel; }
                double want = p[i] - (double) lr * d;
                String at = "SGD " + java.util.Arrays.toString(cfg) + " n=" + n + " i=" + i;
                assertEquals(want, gp[i], 4 * Math.ulp(Math.max(Math.abs(p[i]), Math.abs(lr * (float) d))), at);
                if (mu != 0) assertEquals(vel, gv[i], 4 * Math.ulp(Math.max(Math.abs(mu * v[i]), (float) Math.abs(gi))), at + " velocity");
            }
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    // ---- batch norm

    @Test
    void batchNormForwardAndTrainingBackwardMatchADoubleReference() {
        long fwd = function(KernelSource.BATCH_NORM, "kiln_batchnorm_forward_f32"), bwd = function(KernelSource.BATCH_NORM, "kiln_batchnorm_backward_f32");
        Random r = new Random(31);
        float eps = 1e-3f;
        for (int[] shape : new int[][] {{1, 1}, {7, 3}, {64, 5}, {300, 2}}) {
            int rows = shape[0], ch = shape[1];
            float[] x = random(r, rows * ch, 2f), dy = random(r, rows * ch, 1f), gamma = random(r, ch, 1f), beta = random(r, ch, 1f);
            float[] mean = new float[ch], var = new float[ch];
            BatchNormStep.batchStatistics(x, rows, ch, mean, var);
            long dx = upload(cuda, x), ddy = upload(cuda, dy), dm = upload(cuda, mean), dv = upload(cuda, var), dga = upload(cuda, gamma),
                    dbe = upload(cuda, beta), dyo = cuda.memAlloc(4L * rows * ch), ddx = cuda.memAlloc(4L * rows * ch),
                    ddg = cuda.memAlloc(4L * ch), ddb = cuda.memAlloc(4L * ch);
            launch(cuda, fwd, 2, 64, 0, KernelArgs.of().pointer(dx).pointer(dm).pointer(dv).pointer(dga).pointer(dbe).pointer(dyo)
                    .f32(eps).i64(rows).i32(ch));
            launch(cuda, bwd, 2, 64, 0, KernelArgs.of().pointer(dx).pointer(ddy).pointer(dm).pointer(dv).pointer(dga).pointer(ddx)
                    .pointer(ddg).pointer(ddb).f32(eps).i32(rows).i32(ch));
            float[] y = floats(cuda, dyo, rows * ch), dxs = floats(cuda, ddx, rows * ch), dg = floats(cuda, ddg, ch), db = floats(cuda, ddb, ch);
            // BatchNormGrad's launch passes dgamma and dbeta as null (the graph sums them itself): the same dx, nothing else written
            long ddxOnly = cuda.memAlloc(4L * rows * ch);
            launch(cuda, bwd, 2, 64, 0, KernelArgs.of().pointer(dx).pointer(ddy).pointer(dm).pointer(dv).pointer(dga).pointer(ddxOnly)
                    .pointer(0).pointer(0).f32(eps).i32(rows).i32(ch));
            assertArrayEquals(dxs, floats(cuda, ddxOnly, rows * ch), "dx with dgamma and dbeta null (" + rows + "x" + ch + ")");
            for (int c = 0; c < ch; c++) {
                double invstd = 1 / Math.sqrt(var[c] + (double) eps), sdy = 0, sdyx = 0, mag = 0;
                for (int i = 0; i < rows; i++) {
                    double xhat = (x[i * ch + c] - (double) mean[c]) * invstd;
                    assertEquals(xhat * gamma[c] + beta[c], y[i * ch + c], 1e-5 * (Math.abs(xhat * gamma[c]) + Math.abs(beta[c])) + 1e-6, "y at " + i + "," + c);
                    sdy += dy[i * ch + c];
                    sdyx += dy[i * ch + c] * xhat;
                    mag += Math.abs(dy[i * ch + c]) * (1 + Math.abs(xhat));
                }
                assertEquals(sdy, db[c], 1e-5 * mag + 1e-6, "dbeta " + c);
                assertEquals(sdyx, dg[c], 1e-5 * mag + 1e-6, "dgamma " + c);
                for (int i = 0; i < rows; i++) {
                    double xhat = (x[i * ch + c] - (double) mean[c]) * invstd;
                    double want = gamma[c] * invstd / rows * (rows * (double) dy[i * ch + c] - sdy - xhat * sdyx);
                    double tol = 1e-5 * Math.abs(gamma[c] * invstd) * (Math.abs(dy[i * ch + c]) + mag / rows * (1 + Math.abs(xhat))) + 1e-6;
                    assertEquals(want, dxs[i * ch + c], tol, "dx at " + i + "," + c + " (" + rows + "x" + ch + ")");
                }
            }
            EmulatedDevice.CASES.incrementAndGet();
        }
    }
}
