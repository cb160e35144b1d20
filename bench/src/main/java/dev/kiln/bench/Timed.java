package dev.kiln.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * The timing rule every Kiln worker follows, the same as the PyTorch peer's {@code timed_runs}:
 * at least {@code reps} timed runs; a run during which other processes used more than
 * {@code busyCores} cores (plus three jiffies of /proc/stat rounding) is thrown away and taken
 * again after waiting for a quiet slice, at most {@code maxReruns} times per figure. Runs still
 * busy after that are kept and counted as unresolved, so the report can say how far to trust them.
 */
record Timed(int reps, int maxReruns, double busyCores, double maxWaitSeconds) {

    private static final double JIFFY_S = 0.01;

    Timed {
        reps = Math.max(3, reps);
    }

    static Timed from(Map<String, String> a, boolean quick) {
        jitQuietSeconds = Double.parseDouble(a.getOrDefault("jit-quiet-seconds", "1.0"));
        return new Timed(Integer.parseInt(a.getOrDefault("reps", "3")),
                Integer.parseInt(a.getOrDefault("max-reruns", quick ? "3" : "20")),
                Double.parseDouble(a.getOrDefault("busy-threshold", "0.10")),
                Double.parseDouble(a.getOrDefault("max-wait", quick ? "0.5" : "10")));
    }

    /** Runs {@code oneRun} (which returns one figure, higher is better) and summarizes: median, min, max, runs, reruns. */
    Map<String, Object> measure(DoubleSupplier oneRun) {
        List<Double> values = new ArrayList<>();
        int reruns = 0, unresolved = 0;
        double otherMax = 0, waited = 0;
        while (values.size() < reps) {
            CpuLoad before = CpuLoad.now();
            long t0 = System.nanoTime();
            double v = oneRun.getAsDouble();
            double wall = (System.nanoTime() - t0) / 1e9;
            double other = CpuLoad.now().othersSince(before) * CpuLoad.cpus();
            boolean busy = other > busyCores + 3 * JIFFY_S / Math.max(wall, 1e-9);
            if (busy && reruns < maxReruns) {
                reruns++;
                waited += waitQuiet();
                continue;
            }
            if (busy) unresolved++;
            otherMax = Math.max(otherMax, other);
            values.add(v);
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("median", median(sorted));
        rec.put("min", sorted[0]);
        rec.put("max", sorted[sorted.length - 1]);
        rec.put("runs", Arrays.stream(sorted).boxed().toList());
        rec.put("reruns", reruns);
        rec.put("busy_unresolved", unresolved);
        rec.put("other_cpu_max_cores", Math.round(otherMax * 1000) / 1000.0);
        rec.put("waited_for_quiet_s", Math.round(waited * 100) / 100.0);
        return rec;
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * Waits until other processes leave the CPU for one 100 ms slice, or maxWait passes; returns the seconds waited.
     * Rerunning at once after a busy run mostly lands in the same burst (a compiler, a test run).
     */
    private double waitQuiet() {
        long t0 = System.nanoTime();
        while ((System.nanoTime() - t0) / 1e9 < maxWaitSeconds) {
            CpuLoad before = CpuLoad.now();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (CpuLoad.now().othersSince(before) * CpuLoad.cpus() <= busyCores + 3 * JIFFY_S / 0.1) break;
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * Runs {@code call} until the JIT is done with it and returns its best time per call (s).
     * The Vector API runs an allocating fallback until C2 has compiled each kernel, which takes
     * thousands of calls, so a fixed short warm-up measures the JIT, not the kernel. Chunks of
     * about 0.1 s run until two in a row are within 3% of the fastest before them and the JIT has been quiet (at
     * most 2 ms of compilation per chunk) for the last {@link #jitQuietSeconds} (1 s; {@code --jit-quiet-seconds}; at least {@code minSeconds} and
     * {@code minCalls}; at most 20 s). C2 keeps recompiling a model's step for seconds after it first looks stable,
     * and its compiler threads run beside the program: M1's training step went 5.5 ms at 2 s, 5.0 ms at 3 s and
     * 4.8 ms from 7 s on (2 threads, compilation seen up to 9.5 s), and across processes warmed 0.2 s + two
     * stable chunks it gave 38.5k-49.2k samples/s.
     */
    /** How long the JIT must have been quiet before a warm-up ends (s); set from {@code --jit-quiet-seconds} by {@link #from}. */
    static double jitQuietSeconds = 1.0;

    static double warmUp(Runnable call, double minSeconds, int minCalls) {
        long t0 = System.nanoTime(), end = t0 + (long) (minSeconds * 1e9), cap = t0 + 20_000_000_000L;
        int calls = 0, chunk = 1, stable = 0;
        double best = Double.MAX_VALUE;
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
        long quietSince = t0;
        // stable: a chunk neither 3% faster than the best before it (still speeding up) nor 3% slower (noise)
        while (calls < minCalls || System.nanoTime() < end || stable < 2 || System.nanoTime() - quietSince < jitQuietSeconds * 1e9) {
            long j0 = jitTimed ? jit.getTotalCompilationTime() : 0;
            long c0 = System.nanoTime();
            for (int i = 0; i < chunk; i++) call.run();
            calls += chunk;
            long c1 = System.nanoTime();
            double last = (c1 - c0) / 1e9 / chunk;
            if (jitTimed && jit.getTotalCompilationTime() - j0 > 2) quietSince = c1;
            stable = last < best * 0.97 || last > best * 1.03 ? 0 : stable + 1;
            best = Math.min(best, last);
            chunk = (int) Math.max(1, Math.min(1 << 20, 0.1 / Math.max(last, 1e-7)));
            if (System.nanoTime() > cap) break;
        }
        return best;
    }

    /**
     * One throughput figure, the same way for every system in the bench: warm-up (at least {@code warmupSteps}
     * steps and {@code warmupSeconds}), then {@link #measure} over timed runs of a whole number of steps lasting
     * about {@code runSeconds} each, in samples per second. {@code beforeTimedRuns} runs after the warm-up, just
     * before the first timed run (ModelBench resets heap peaks there). Returns the figure's record.
     */
    Map<String, Object> samplesPerSecond(String model, String figure, int batch, Runnable step, double warmupSeconds,
                                         int warmupSteps, double runSeconds, Runnable beforeTimedRuns) {
        double perStep = warmUp(step, warmupSeconds, warmupSteps);
        int steps = (int) Math.max(1, Math.ceil(runSeconds / Math.max(perStep, 1e-7)));
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("model", model);
        rec.put("figure", figure);
        rec.put("batch", batch);
        rec.put("unit", "samples/s");
        rec.put("steps_per_run", steps);
        beforeTimedRuns.run();
        rec.putAll(measure(() -> {
            long s0 = System.nanoTime();
            for (int i = 0; i < steps; i++) step.run();
            return steps * (double) batch / ((System.nanoTime() - s0) / 1e9);
        }));
        return rec;
    }
}
