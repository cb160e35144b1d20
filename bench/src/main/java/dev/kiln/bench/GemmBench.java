package dev.kiln.bench;

import dev.kiln.cpu.Gemm;
import dev.kiln.cpu.WorkerPool;
import dev.kiln.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Kiln's GEMM worker for {@code ./kiln bench}: GFLOP/s of {@link Gemm#gemm} (row-major, no transposes) on the
 * square sizes 256…2048 and on the Dense / im2col-conv shapes of M1–M4, the same list as the PyTorch peer's
 * {@code MODEL_GEMM_SHAPES}, so the two sides can be compared shape by shape. Threads come from
 * -Dkiln.threads, fixed at JVM start, so each thread count is its own JVM.
 *
 * <p>Before any shape is timed its product is checked against a float64 product of the same float inputs:
 * every element must lie within the forward-error bound of a length-k float32 dot product,
 * {@code |C - AB| <= k·2^-24·(|A||B|)}, whatever the summation order. A wrong kernel is not timed.
 * Products too big to check whole (over 2^27 multiply-adds) are checked on 65 rows spread over m.
 *
 * <pre>java ... -Dkiln.threads=1 dev.kiln.bench.GemmBench --set squares,models --result gemm1.json [--quick]</pre>
 */
public final class GemmBench {
    private GemmBench() {}

    record GemmShape(String label, int m, int n, int k) {
        double flop() { return 2.0 * m * n * k; }
    }

    static final int[] SQUARES = {256, 512, 1024, 2048};

    /** (m, n, k) of the forward pass of M1–M4 at their training batch: Dense [batch, in]·[in, out]; 3×3 same conv [N·H·W, 9C]·[9C, F]. */
    static final List<GemmShape> MODEL_SHAPES = List.of(
            new GemmShape("M1 dense 11->512", 256, 512, 11), new GemmShape("M1 dense 512->512", 256, 512, 512),
            new GemmShape("M1 dense 512->1", 256, 1, 512),
            new GemmShape("M2 dense 63->256", 512, 256, 63), new GemmShape("M2 dense 256->256", 512, 256, 256),
            new GemmShape("M2 dense 256->1", 512, 1, 256),
            new GemmShape("M3 conv 1->32 @28", 64 * 28 * 28, 32, 9), new GemmShape("M3 conv 32->64 @14", 64 * 14 * 14, 64, 288),
            new GemmShape("M3 conv 64->64 @14", 64 * 14 * 14, 64, 576), new GemmShape("M3 conv 64->128 @7", 64 * 7 * 7, 128, 576),
            new GemmShape("M3 conv 128->128 @7", 64 * 7 * 7, 128, 1152), new GemmShape("M3 dense 1152->64", 64, 64, 1152),
            new GemmShape("M3 dense 64->10", 64, 10, 64),
            new GemmShape("M4 conv 3->32 @128", 16 * 128 * 128, 32, 27), new GemmShape("M4 conv 32->64 @64", 16 * 64 * 64, 64, 288),
            new GemmShape("M4 conv 64->64 @64", 16 * 64 * 64, 64, 576), new GemmShape("M4 conv 64->128 @32", 16 * 32 * 32, 128, 576),
            new GemmShape("M4 conv 128->128 @32", 16 * 32 * 32, 128, 1152), new GemmShape("M4 dense 32768->6", 16, 6, 32768),
            new GemmShape("M4 dense 6->1", 16, 1, 6));

    /**
     * Quick mode's model shapes, one per model (the peer's {@code QUICK_GEMM_LABELS} names the same): every shape takes the
     * rule's warm-up and three one-second runs, so quick mode times fewer shapes, never shorter.
     */
    static final List<String> QUICK_MODEL_SHAPES = List.of("M1 dense 512->512", "M2 dense 256->256", "M3 conv 64->64 @14", "M4 conv 64->128 @32");

    /** The shapes of {@code sets} ("squares", "models"); quick keeps {@link #QUICK_MODEL_SHAPES} of the models, as the peer's quick mode does. */
    static List<GemmShape> shapes(List<String> sets, boolean quick) {
        List<GemmShape> out = new ArrayList<>();
        if (sets.contains("squares")) for (int n : SQUARES) out.add(new GemmShape("square " + n, n, n, n));
        if (sets.contains("models")) {
            for (GemmShape s : MODEL_SHAPES) if (!quick || QUICK_MODEL_SHAPES.contains(s.label())) out.add(s);
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> a = Args.parse(args);
        boolean quick = a.containsKey("quick");
        List<GemmShape> shapes = shapes(List.of(a.getOrDefault("set", "squares,models").split(",")), quick);
        Timed timed = Timed.from(a, quick);
        List<Object> results = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(42);
        WorkerPool pool = new WorkerPool(WorkerPool.defaultThreads());
        for (GemmShape s : shapes) {
            float[] x = gaussian(rnd, s.m() * s.k()), w = gaussian(rnd, s.k() * s.n()), c = new float[s.m() * s.n()];
            Runnable call = () -> Gemm.gemm(pool, false, false, s.m(), s.n(), s.k(), x, 0, s.k(), w, 0, s.n(), c, 0, s.n(), false);
            call.run();
            double errorOverBound = errorOverBound(s, x, w, c);
            Map<String, Object> rec = new LinkedHashMap<>();
            rec.put("label", s.label());
            rec.put("m", s.m());
            rec.put("n", s.n());
            rec.put("k", s.k());
            rec.put("unit", "GFLOP/s");
            rec.put("error_over_bound", errorOverBound);
            if (!(errorOverBound <= 1.0)) {
                System.err.printf("GemmBench: %s is WRONG: error %.3g x the float32 bound; not timed%n", s.label(), errorOverBound);
                rec.put("wrong", true);
                results.add(rec);
                continue;
            }
            // one call is one step of the rule: GFLOP per call, per second
            rec.putAll(timed.throughput(call, s.flop() / 1e9, () -> { }));
            results.add(rec);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("system", "kiln");
        out.put("threads", pool.threads());
        out.put("shapes", results);
        Files.writeString(Path.of(a.get("result")), Json.write(out));
    }

    static float[] gaussian(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** max over the checked elements of |C − AB| / (k·2^-24·(|A||B|)), in double; ≤ 1 for any correct float32 GEMM. */
    static double errorOverBound(GemmShape s, float[] a, float[] b, float[] c) {
        int m = s.m(), n = s.n(), k = s.k();
        boolean all = (long) m * n * k <= 1L << 27;
        int rows = all ? m : Math.min(m, 65);
        double worst = 0, u = Math.scalb(1.0, -24);
        double[] ref = new double[n], scale = new double[n];
        for (int r = 0; r < rows; r++) {
            int i = all ? r : (int) ((long) r * (m - 1) / (rows - 1));
            java.util.Arrays.fill(ref, 0);
            java.util.Arrays.fill(scale, 0);
            for (int p = 0; p < k; p++) {
                double av = a[i * k + p];
                int bo = p * n;
                for (int j = 0; j < n; j++) {
                    ref[j] += av * b[bo + j];
                    scale[j] += Math.abs(av * b[bo + j]);
                }
            }
            for (int j = 0; j < n; j++) {
                double bound = k * u * scale[j];
                double err = Math.abs(c[i * n + j] - ref[j]);
                // NaN in c makes err NaN; report it as infinitely wrong rather than letting max() drop it.
                worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : Math.max(worst, bound > 0 ? err / bound : (err > 0 ? Double.POSITIVE_INFINITY : 0));
            }
            if (Double.isInfinite(worst)) break;
        }
        return worst;
    }
}
