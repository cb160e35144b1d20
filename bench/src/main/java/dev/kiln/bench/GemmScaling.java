package dev.kiln.bench;

import dev.kiln.cpu.Gemm;
import dev.kiln.cpu.WorkerPool;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GEMM on one thread against two, interleaved in one JVM so that both see the same machine load: for each shape,
 * rounds alternate a 1-thread pool and a 2-thread pool ({@link Gemm#gemm} with an explicit {@link WorkerPool});
 * each figure is the median over rounds of GFLOP/s by wall time, and for one thread also by thread CPU time.
 * Prints the load average before and after, because a 2-thread figure on a busy 2-core machine says little.
 *
 * <pre>java ... dev.kiln.bench.GemmScaling [--shapes 512x512x512,256x512x512t] [--rounds 21] [--ms 150]</pre>
 * A shape is m x n x k; a trailing {@code t} transposes B (the dX = dY·Wᵀ of a dense layer), {@code a} transposes A.
 */
public final class GemmScaling {
    private GemmScaling() {}

    public static void main(String[] args) throws Exception {
        var a = Args.parse(args);
        String[] shapes = a.getOrDefault("shapes", "512x512x512,1024x1024x1024,2048x2048x2048,256x512x512,256x512x512t,512x512x256a").split(",");
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "21"));
        double ms = Double.parseDouble(a.getOrDefault("ms", "150"));
        WorkerPool one = new WorkerPool(1), two = new WorkerPool(2);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.println("load before: " + load());
        System.out.printf(Locale.ROOT, "%-18s %10s %10s %10s %8s%n", "shape", "1t wall", "1t cpu", "2t wall", "2t/1t");
        for (String s : shapes) {
            boolean tb = s.endsWith("t"), ta = s.endsWith("a");
            String[] d = s.replaceAll("[ta]$", "").split("x");
            int m = Integer.parseInt(d[0]), n = Integer.parseInt(d[1]), k = Integer.parseInt(d[2]);
            SplittableRandom r = new SplittableRandom(1);
            float[] x = new float[m * k], w = new float[k * n], c = new float[m * n];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextDouble(-1, 1);
            int lda = ta ? m : k, ldb = tb ? k : n;
            double flop = 2.0 * m * n * k;
            int calls = (int) Math.max(1, ms * 1e-3 * 150e9 / flop);
            double[] wall1 = new double[rounds], cpu1 = new double[rounds], wall2 = new double[rounds];
            for (int i = 0; i < 3; i++) { run(one, ta, tb, m, n, k, x, lda, w, ldb, c, calls); run(two, ta, tb, m, n, k, x, lda, w, ldb, c, calls); }
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime(), c0 = mx.getCurrentThreadCpuTime();
                run(one, ta, tb, m, n, k, x, lda, w, ldb, c, calls);
                long c1 = mx.getCurrentThreadCpuTime(), t1 = System.nanoTime();
                run(two, ta, tb, m, n, k, x, lda, w, ldb, c, calls);
                long t2 = System.nanoTime();
                wall1[i] = flop * calls / (t1 - t0);
                cpu1[i] = flop * calls / (c1 - c0);
                wall2[i] = flop * calls / (t2 - t1);
            }
            double w1 = median(wall1), c1 = median(cpu1), w2 = median(wall2);
            System.out.printf(Locale.ROOT, "%-18s %10.1f %10.1f %10.1f %8.2f%n", s, w1, c1, w2, w2 / w1);
        }
        System.out.println("load after: " + load());
    }

    private static void run(WorkerPool pool, boolean ta, boolean tb, int m, int n, int k, float[] x, int lda, float[] w, int ldb, float[] c, int calls) {
        for (int i = 0; i < calls; i++) Gemm.gemm(pool, ta, tb, m, n, k, x, 0, lda, w, 0, ldb, c, 0, n, false);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static String load() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
