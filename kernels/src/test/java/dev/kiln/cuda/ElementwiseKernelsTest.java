package dev.kiln.cuda;

import dev.kiln.graph.AdamUpdate;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.emu.TestDevice;
import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.emu.Nvcc;
import dev.kiln.cuda.ffi.KernelArgs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.kiln.cuda.emu.EmulatedDevice.floats;
import static dev.kiln.cuda.emu.EmulatedDevice.launch;
import static dev.kiln.cuda.emu.EmulatedDevice.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * elementwise.cu's kernels, compiled by nvcc and run on the emulated device, against CPU
 * references at odd sizes, several launch shapes (grid-stride loops must cover any n) and special values.
 */
class ElementwiseKernelsTest {
    static final int[] SIZES = {1, 13, 257, 1000};
    static final int[][] LAUNCHES = {{1, 32}, {3, 64}, {8, 128}};
    static final float[] SPECIAL = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, Float.MIN_VALUE, -Float.MAX_VALUE};

    private CudaDriver cuda;
    private long module;

    @BeforeEach void load() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        cuda = TestDevice.open();
        module = cuda.moduleLoadData(Nvcc.ptx("elementwise", KernelSource.ELEMENTWISE.text()));
    }

    @AfterEach void close() { TestDevice.close(cuda); }

    static float[] randomWithSpecials(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian() * 3;
        for (int i = 0; i < Math.min(n, SPECIAL.length); i++) x[(int) ((i * 7919L) % n)] = SPECIAL[i];
        return x;
    }

    @Test
    void addReluIsFmaxOfTheSumAndZeroWithNanGivingZero() {
        long fn = cuda.moduleGetFunction(module, "kiln_add_relu_f32");
        for (int n : SIZES) for (int[] l : LAUNCHES) {
            float[] a = randomWithSpecials(n, n), b = randomWithSpecials(n, n + 1);
            long da = upload(cuda, a), db = upload(cuda, b), dout = cuda.memAlloc(4L * n);
            launch(cuda, fn, l[0], l[1], 0, KernelArgs.of().pointer(da).pointer(db).pointer(dout).i64(n));
            float[] got = floats(cuda, dout, n);
            for (int i = 0; i < n; i++) {
                float s = a[i] + b[i];
                float want = Float.isNaN(s) ? 0f : Math.max(s, 0f);   // fmaxf: a NaN operand yields the other one
                assertEquals(want, got[i], 0f, "n=" + n + " i=" + i + " a=" + a[i] + " b=" + b[i]);
            }
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    @Test
    void reluBackwardPassesTheGradientWhereTheOutputIsPositive() {
        long fn = cuda.moduleGetFunction(module, "kiln_relu_backward_f32");
        for (int n : SIZES) for (int[] l : LAUNCHES) {
            float[] y = randomWithSpecials(n, 3 * n), dy = randomWithSpecials(n, 5 * n);
            long dyv = upload(cuda, y), ddy = upload(cuda, dy), ddx = cuda.memAlloc(4L * n);
            launch(cuda, fn, l[0], l[1], 0, KernelArgs.of().pointer(dyv).pointer(ddy).pointer(ddx).i64(n));
            float[] got = floats(cuda, ddx, n);
            for (int i = 0; i < n; i++) {
                float want = y[i] > 0f ? dy[i] : 0f;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), "n=" + n + " i=" + i + " y=" + y[i] + " dy=" + dy[i]);
            }
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    /**
     * Against {@link AdamUpdate#step}, the one scalar meaning (the interpreter and the CPU twin call it), given the
     * same float constants. Tolerance: the kernel computes (1-β^t) with powf and 1/sqrt of it with rsqrtf
     * (rsqrt.approx: 2 ulp) and nvcc may contract a·b + c into an FMA, where the reference rounds twice; so
     * parameters agree within 8 float ulps of the parameter plus 1e-4 of the step, the moments within 4 ulps of
     * their largest term (m, and g + wd·p in it, may cancel, so the error is relative to the terms, not to m).
     */
    @Test
    void adamAndAdamWMatchTheOneScalarMeaning() {
        long fn = cuda.moduleGetFunction(module, "kiln_adam_update_f32");
        double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 1e-3;
        for (boolean decoupled : new boolean[] {false, true}) for (int step : new int[] {1, 7}) for (int n : SIZES) {
            double wd = decoupled ? 0.01 : 0.001;
            Random r = new Random(n * 31L + step);
            float[] p = new float[n], g = new float[n], m = new float[n], v = new float[n];
            for (int i = 0; i < n; i++) {
                p[i] = (float) r.nextGaussian();
                g[i] = (float) r.nextGaussian() * 0.1f;
                m[i] = step == 1 ? 0f : (float) r.nextGaussian() * 0.01f;
                v[i] = step == 1 ? 0f : (float) Math.abs(r.nextGaussian()) * 1e-3f;
            }
            if (n > 3) { g[1] = 0f; g[2] = -0f; p[3] = 0f; }
            long dp = upload(cuda, p), dg = upload(cuda, g), dm = upload(cuda, m), dv = upload(cuda, v);
            long dlr = upload(cuda, new float[] {(float) lr}), dt = upload(cuda, new float[] {step});
            long dbad = upload(cuda, nonFinite(n));   // what a skipped step's gradient holds
            for (long apply : new long[] {0, upload(cuda, new float[] {0f})}) {   // null: always; a 0 flag: a skipped step, run second
                launch(cuda, fn, 2, 64, 0, KernelArgs.of().pointer(dp).pointer(apply == 0 ? dg : dbad).pointer(dm).pointer(dv).pointer(dlr).pointer(dt).pointer(apply)
                        .f32((float) b1).f32((float) b2).f32((float) eps).f32((float) wd).i32(decoupled ? 1 : 0).i64(n));
            }
            float[] gp = floats(cuda, dp, n), gm = floats(cuda, dm, n), gv = floats(cuda, dv, n);
            // The kernel's constants are floats; the reference is given the same float values.
            float[] ep = p.clone(), em = m.clone(), ev = v.clone();
            AdamUpdate.step(ep, 0, g, 0, em, 0, ev, 0, n, (float) lr, step, (float) b1, (float) b2, (float) eps, (float) wd, decoupled);
            for (int i = 0; i < n; i++) {
                float pi = decoupled ? p[i] * (float) (1 - (float) lr * (double) (float) wd) : p[i];
                float gi = decoupled ? g[i] : g[i] + (float) wd * pi;
                double stepSize = Math.abs((double) pi - ep[i]);
                String at = (decoupled ? "AdamW" : "Adam") + " t=" + step + " n=" + n + " i=" + i;
                // m, and Adam's g + wd·p before it, may cancel: the error is relative to the largest term
                float terms = Math.max(Math.max(Math.abs((float) b1 * m[i]), Math.abs((1 - (float) b1) * gi)),
                        (1 - (float) b1) * Math.max(Math.abs(g[i]), Math.abs((float) wd * pi)));
                assertEquals(em[i], gm[i], 4 * Math.ulp(terms), at + " m");
                assertEquals(ev[i], gv[i], 4 * Math.ulp(ev[i]) + 1e-15, at + " v");
                assertEquals(ep[i], gp[i], 8 * Math.ulp(ep[i]) + 1e-4 * stepSize, at + " p");
            }
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    /** A skipped step's gradient: NaN, +inf and -inf in turn. */
    static float[] nonFinite(int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) g[i] = i % 3 == 0 ? Float.NaN : i % 3 == 1 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
        return g;
    }
}
