package dev.kiln.bench;

import dev.kiln.backend.Executable;
import dev.kiln.cpu.StepTimes;
import dev.kiln.graph.Node;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a training step of M1–M4 spends its time, instruction by instruction, on the CPU backend: after a warm-up,
 * {@code rounds} rounds of {@code steps} steps each are timed per instruction ({@link StepTimes}); each
 * instruction's figure is its median over the rounds. Prints the instructions over 0.5% and a sum by op name.
 *
 * <pre>java ... -Dkiln.threads=2 dev.kiln.bench.StepProfile --model M3 [--infer] [--batch 64] [--warmup-seconds 8] [--rounds 15] [--steps 5] [--top 40]
 * java ... -Dkiln.threads=1 dev.kiln.bench.StepProfile --model M3 --cpu   (thread CPU time: steadier on a shared machine)</pre>
 */
public final class StepProfile {
    private StepProfile() {}

    public static void main(String[] args) {
        Map<String, String> a = Args.parse(args);
        BenchModels.Spec spec = BenchModels.of(a.getOrDefault("model", "M3"));
        int batch = Integer.parseInt(a.getOrDefault("batch", Integer.toString(spec.batch())));
        boolean infer = a.containsKey("infer");
        // thread CPU time: what a step costs on a busy machine, but only the caller's share, so one-thread pools only
        boolean cpu = a.containsKey("cpu");
        if (cpu && dev.kiln.cpu.WorkerPool.defaultThreads() != 1) throw new IllegalArgumentException("--cpu times the calling thread only: run with -Dkiln.threads=1");
        // long enough for C2 to compile the kernels that run only once or twice a step (GemmThin, the optimizer):
        // after 30 steps M1's 512→1 layer still ran the Vector API's fallback, 100x slower
        double warmupSeconds = Double.parseDouble(a.getOrDefault("warmup-seconds", "8"));
        int rounds = Integer.parseInt(a.getOrDefault("rounds", "15"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "5"));
        int top = Integer.parseInt(a.getOrDefault("top", "40"));
        Executable e = infer ? spec.model().predictionProgram(batch) : spec.model().trainingProgram(batch);
        Runnable feed = infer ? ModelBench.inferStep(spec, batch) : ModelBench.trainStep(spec, batch, e);
        // the feeds set the inputs; the profiled run below replaces e.run()
        feed.run();
        int n = StepTimes.count(e);
        long[] nanos = new long[n];
        for (long end = System.nanoTime() + (long) (warmupSeconds * 1e9); System.nanoTime() - end < 0; ) StepTimes.run(e, nanos, cpu);
        long[][] perRound = new long[rounds][];
        long[] wall = new long[rounds];
        for (int r = 0; r < rounds; r++) {
            Arrays.fill(nanos, 0);
            long t0 = System.nanoTime();
            for (int s = 0; s < steps; s++) StepTimes.run(e, nanos, cpu);
            wall[r] = System.nanoTime() - t0;
            perRound[r] = nanos.clone();
        }
        double[] med = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            long[] v = new long[rounds];
            for (int r = 0; r < rounds; r++) v[r] = perRound[r][i];
            Arrays.sort(v);
            med[i] = v[rounds / 2] / (double) steps / 1e6;
            total += med[i];
        }
        long[] w = wall.clone();
        Arrays.sort(w);
        double stepMs = w[rounds / 2] / (double) steps / 1e6;
        System.out.printf(Locale.ROOT, "%s %s batch %d, %d threads: %.3f ms/step (median of %d rounds of %d), %.1f samples/s; sum of instruction medians %.3f ms; %d instructions%n",
                spec.name(), infer ? "inference" : "training", batch, dev.kiln.cpu.WorkerPool.defaultThreads(), stepMs, rounds, steps,
                batch / stepMs * 1e3, total, n);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Double.compare(med[y], med[x]));
        System.out.printf(Locale.ROOT, "%-6s %8s %6s %8s  %s%n", "instr", "ms", "%", "GFLOP/s", "op");
        for (int j = 0; j < Math.min(top, n); j++) {
            int i = order[j];
            if (med[i] < total * 0.005) break;
            Node node = StepTimes.node(e, i);
            double f = flops(node);
            System.out.printf(Locale.ROOT, "%-6d %8.3f %5.1f%% %8s  %s %s%s%n", i, med[i], 100 * med[i] / total,
                    f > 0 ? String.format(Locale.ROOT, "%.1f", f / med[i] / 1e6) : "", node.op().name(), node.shape(),
                    node.label() == null ? "" : " in " + node.label());
        }
        Map<String, double[]> byOp = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            double[] acc = byOp.computeIfAbsent(opKind(StepTimes.node(e, i)), k -> new double[2]);
            acc[0] += med[i];
            acc[1]++;
        }
        List<Map.Entry<String, double[]>> rows = new ArrayList<>(byOp.entrySet());
        rows.sort((x, y) -> Double.compare(y.getValue()[0], x.getValue()[0]));
        System.out.printf(Locale.ROOT, "%nby op:%n%-28s %5s %8s %6s%n", "op", "count", "ms", "%");
        for (Map.Entry<String, double[]> r : rows) {
            System.out.printf(Locale.ROOT, "%-28s %5d %8.3f %5.1f%%%n", r.getKey(), (int) r.getValue()[1], r.getValue()[0], 100 * r.getValue()[0] / total);
        }
    }

    /** 2·m·n·k for a 2-D matmul or linear; 2·(N·Ho·Wo·F)·(KH·KW·C) (as direct convolution) for the three convolution ops; 0 for other ops. */
    static double flops(Node node) {
        String name = node.op().name();
        if ((name.startsWith("matmul") || name.startsWith("linear")) && node.shape().rank() == 2) {
            long m = node.shape().dim(0), k = node.inputs().get(0).shape().size() / m;
            return 2.0 * node.shape().size() * k;
        }
        if (!name.startsWith("conv2d")) return 0;
        List<dev.kiln.tensor.Shape> shapes = new ArrayList<>();
        shapes.add(node.shape());
        for (Node in : node.inputs()) shapes.add(in.shape());
        dev.kiln.tensor.Shape w = null;
        for (dev.kiln.tensor.Shape s : shapes) if (s.rank() == 4 && s.dim(0) <= 7 && s.dim(1) <= 7 && s.dim(0) == s.dim(1)) { w = s; break; }
        if (w == null) return 0;
        long f = w.dim(3), act = 0;
        for (dev.kiln.tensor.Shape s : shapes) if (s != w && s.rank() == 4 && s.dim(3) == f) act = Math.max(act, s.size());
        return 2.0 * act * (w.size() / f);
    }

    private static String opKind(Node node) {
        String name = node.op().name();
        int p = name.indexOf('(');
        return p > 0 ? name.substring(0, p) : name;
    }
}
