package dev.kiln.bench;

import dev.kiln.cpu.Gemm;
import dev.kiln.cpu.WorkerPool;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A/B of the CPU micro-kernel's specialised copies ({@code MicroKernel.packed} for GEMM and Winograd, {@code tile12}
 * for the filter gradient) against the one shared {@code tile}, chosen by {@code -Dkiln.cpu.microkernel=specialised
 * | shared}. Each variant runs in its own JVM (the property is read once, at class init, so C2 folds it), the two
 * alternating in each of several rounds; a child times square GEMMs (GFLOP/s) and a model's training step (ms) on
 * one thread count. Prints each figure's median over the rounds for both variants and the ratio.
 *
 * <pre>./kiln bench --microkernel-ab [--rounds 3] [--threads 1,2] [--sizes 512,1024,2048] [--model M3|none] [--seconds 3]</pre>
 *
 * Run it on a quiet machine: the figures of a busy one say nothing.
 */
public final class MicroKernelAB {
    static final List<String> VARIANTS = List.of("specialised", "shared");

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        List<Integer> sizes = ints(a.getOrDefault("sizes", "512,1024,2048"));
        String model = a.getOrDefault("model", "M3");
        double seconds = Double.parseDouble(a.getOrDefault("seconds", "3"));
        if (a.containsKey("child")) { child(sizes, model, seconds); return; }
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "3"));
        // figure ("gemm 512 @1t") -> variant -> one value per round
        Map<String, Map<String, List<Double>>> seen = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            for (int threads : ints(a.getOrDefault("threads", "1,2"))) {
                for (int k = 0; k < 2; k++) {
                    String variant = VARIANTS.get(r % 2 == 0 ? k : 1 - k);   // alternate which goes first
                    for (String line : run(variant, threads, args)) {
                        String[] f = line.split(" ");   // "gemm 512 87.1" | "train M3 152.3"
                        seen.computeIfAbsent(f[0] + " " + f[1] + " @" + threads + "t", x -> new LinkedHashMap<>())
                                .computeIfAbsent(variant, x -> new ArrayList<>()).add(Double.parseDouble(f[2]));
                    }
                }
            }
        }
        System.out.printf("%-22s %14s %14s %8s%n", "figure (median of " + rounds + ")", "specialised", "shared", "spec/shr");
        for (var e : seen.entrySet()) {
            double s = ConvPathAB.median(unbox(e.getValue().get("specialised"))), h = ConvPathAB.median(unbox(e.getValue().get("shared")));
            boolean gemm = e.getKey().startsWith("gemm");
            // > 1: the specialised copy is faster (GFLOP/s higher, ms lower)
            System.out.printf("%-22s %10.1f %-3s %10.1f %-3s %8.3f%n", e.getKey(), s, gemm ? "GF" : "ms", h, gemm ? "GF" : "ms", gemm ? s / h : h / s);
        }
    }

    /** A child JVM with this one's flags, {@code variant} and {@code threads}; its figure lines. */
    static List<String> run(String variant, int threads, String[] args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String f : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!f.startsWith("-Dkiln.cpu.microkernel=") && !f.startsWith("-Dkiln.threads=")) cmd.add(f);
        }
        cmd.addAll(List.of("-Dkiln.cpu.microkernel=" + variant, "-Dkiln.threads=" + threads,
                "-cp", System.getProperty("java.class.path"), MicroKernelAB.class.getName(), "--child"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) lines.add(line);
        }
        int rc = p.waitFor();
        if (rc != 0) throw new IllegalStateException("MicroKernelAB: the " + variant + " child on " + threads + " thread(s) exited with " + rc + "; see its error output above");
        return lines;
    }

    /** In the child: each GEMM's GFLOP/s and the model's ms per training step, best of three timed windows after warm-up. */
    static void child(List<Integer> sizes, String model, double seconds) {
        WorkerPool pool = new WorkerPool(WorkerPool.defaultThreads());
        SplittableRandom rnd = new SplittableRandom(42);
        for (int n : sizes) {
            float[] x = GemmBench.gaussian(rnd, n * n), w = GemmBench.gaussian(rnd, n * n), c = new float[n * n];
            double s = bestSecondsPerCall(() -> Gemm.gemm(pool, false, false, n, n, n, x, 0, n, w, 0, n, c, 0, n, false), seconds);
            System.out.printf("gemm %d %.2f%n", n, 2.0 * n * n * n / s / 1e9);
        }
        if (!model.equals("none")) {
            BenchModels.Spec spec = BenchModels.of(model);
            System.out.printf("train %s %.3f%n", model, 1e3 * bestSecondsPerCall(ModelBench.trainStep(spec, spec.batch()), seconds));
        }
    }

    /**
     * Warms up for {@code seconds} and at least 20 calls (C2 must have compiled the kernels: until then the Vector
     * API runs its ~100x slower fallback), then three windows of {@code seconds / 3} and at least 5 calls; the best mean.
     */
    static double bestSecondsPerCall(Runnable call, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        for (int calls = 0; calls < 20 || System.nanoTime() < end; calls++) call.run();
        double best = Double.MAX_VALUE;
        for (int window = 0; window < 3; window++) {
            long t0 = System.nanoTime(), stop = t0 + (long) (seconds / 3 * 1e9);
            int calls = 0;
            do { call.run(); calls++; } while (calls < 5 || System.nanoTime() < stop);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9 / calls);
        }
        return best;
    }

    static List<Integer> ints(String csv) {
        List<Integer> out = new ArrayList<>();
        for (String s : csv.split(",")) out.add(Integer.parseInt(s.trim()));
        return out;
    }

    static double[] unbox(List<Double> xs) {
        double[] out = new double[xs.size()];
        for (int i = 0; i < out.length; i++) out[i] = xs.get(i);
        return out;
    }
}
