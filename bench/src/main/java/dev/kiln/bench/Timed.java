package dev.kiln.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * The timing rule every system in the bench follows: Kiln ({@link ModelBench}, {@link GemmBench}), the DL4J peer
 * (which compiles this file) and the PyTorch peer (bench/python/peer_bench.py, its twin {@code WarmUp} and
 * {@code timed_run}, which get {@link Rule#STANDARD}'s constants on their command line from {@link Bench}).
 *
 * <p>Warm-up ({@link Rule}): run the step until its per-step time is stable, then timed runs. Busy machine: at least
 * {@code reps} timed runs; a run during which other processes used more than {@code busyCores} cores (plus three
 * jiffies of /proc/stat rounding) is thrown away and taken again after waiting for a quiet slice, at most
 * {@code maxReruns} times per figure. Runs still busy after that are kept and counted as unresolved, so the report
 * can say how far to trust them.
 */
record Timed(Rule rule, int reps, int maxReruns, double busyCores, double maxWaitSeconds) {

    private static final double JIFFY_S = 0.01;

    Timed {
        reps = Math.max(3, reps);
    }

    Timed(int reps, int maxReruns, double busyCores, double maxWaitSeconds) {
        this(Rule.STANDARD, reps, maxReruns, busyCores, maxWaitSeconds);
    }

    static Timed from(Map<String, String> a, boolean quick) {
        return new Timed(a.containsKey("rule") ? Rule.parse(a.get("rule")) : Rule.STANDARD,
                Integer.parseInt(a.getOrDefault("reps", "3")),
                Integer.parseInt(a.getOrDefault("max-reruns", quick ? "3" : "20")),
                Double.parseDouble(a.getOrDefault("busy-threshold", "0.10")),
                Double.parseDouble(a.getOrDefault("max-wait", quick ? "0.5" : "10")));
    }

    /**
     * The warm-up and timed-run rule, the same on every side (bench/README.md states it in words):
     * <ul>
     * <li>Step times are taken per sample: one step, or as many consecutive steps as fill about {@code sampleSeconds}
     *     when steps are shorter (per-step time = the sample's time / its steps).</li>
     * <li>Warm-up ends at the first sample after which all hold: at least {@code minSteps} steps and {@code minSeconds}
     *     have run; the median per-step time of the last {@code window} samples is within {@code tolerance} of the
     *     median of the {@code window} samples before them; and, on the JVM, the JIT compiled for at most
     *     {@link #JIT_TOLERANCE_MS} ms in the last {@code jitQuietSeconds} (C2 keeps recompiling a model's step for seconds
     *     after its time first looks stable: M1's training step went 5.5 ms at 2 s, 5.0 ms at 3 s, 4.8 ms from 7 s on).</li>
     * <li>Warm-up stops at {@code capSeconds} even when that has not happened; the figure is then flagged (cap hit) and
     *     names what was missing.</li>
     * <li>Each timed run is a whole number of steps, at least {@code runSteps} and at least {@code runSeconds}.</li>
     * </ul>
     */
    record Rule(int minSteps, double minSeconds, int window, double tolerance, double jitQuietSeconds, double capSeconds,
                double sampleSeconds, double runSeconds, int runSteps) {
        /** The rule of {@code ./kiln bench}, quick or full: quick mode searches fewer configurations, never shortens these. */
        static final Rule STANDARD = new Rule(5, 1.0, 5, 0.03, 1.0, 30.0, 0.01, 1.0, 10);

        /** JIT compilation (total over the compiler threads, ms) a quiet stretch may still hold: the warm-up loop's own bookkeeping. */
        static final long JIT_TOLERANCE_MS = 2;

        private static final List<String> KEYS = List.of("min_steps", "min_s", "window", "tolerance", "jit_quiet_s", "cap_s", "sample_s",
                "run_s", "run_steps");

        Rule {
            if (minSteps < 1 || window < 1 || runSteps < 1 || !(minSeconds >= 0) || !(tolerance >= 0) || !(jitQuietSeconds >= 0)
                    || !(capSeconds > 0) || !(sampleSeconds >= 0) || !(runSeconds >= 0)) {
                throw new IllegalArgumentException("bad warm-up rule: " + Arrays.asList(minSteps, minSeconds, window, tolerance, jitQuietSeconds,
                        capSeconds, sampleSeconds, runSeconds, runSteps) + " (steps and window >= 1, seconds >= 0, cap > 0)");
            }
        }

        /** The command-line form both languages read, e.g. {@code min_steps=5,min_s=1.0,...}; {@link #parse} reads it back. */
        String encoded() {
            Object[] v = {minSteps, minSeconds, window, tolerance, jitQuietSeconds, capSeconds, sampleSeconds, runSeconds, runSteps};
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < KEYS.size(); i++) parts.add(KEYS.get(i) + "=" + v[i]);
            return String.join(",", parts);
        }

        static Rule parse(String text) {
            Map<String, String> kv = new LinkedHashMap<>();
            for (String part : text.split(",")) {
                int eq = part.indexOf('=');
                String key = eq < 0 ? part.trim() : part.substring(0, eq).trim();
                if (eq < 0 || !KEYS.contains(key)) {
                    throw new IllegalArgumentException("--rule: '" + part + "' is not one of " + KEYS + " as key=value (got '" + text + "')");
                }
                kv.put(key, part.substring(eq + 1).trim());
            }
            if (!kv.keySet().containsAll(KEYS)) throw new IllegalArgumentException("--rule needs every key of " + KEYS + "; got '" + text + "'");
            return new Rule(Integer.parseInt(kv.get("min_steps")), Double.parseDouble(kv.get("min_s")), Integer.parseInt(kv.get("window")),
                    Double.parseDouble(kv.get("tolerance")), Double.parseDouble(kv.get("jit_quiet_s")), Double.parseDouble(kv.get("cap_s")),
                    Double.parseDouble(kv.get("sample_s")), Double.parseDouble(kv.get("run_s")), Integer.parseInt(kv.get("run_steps")));
        }

        /** One line for the report and README: the rule in words. */
        String words() {
            return String.format(Locale.ROOT, "warm-up until the median per-step time of the last %d samples is within %.0f%% of the %d before "
                            + "(a sample: one step, or as many as fill %.0f ms), with at least %d steps and %.1f s, and on the JVM at most %d ms "
                            + "of JIT compilation in the last %.1f s; capped at %.0f s (flagged); then timed runs of at least %d steps and %.1f s",
                    window, 100 * tolerance, window, 1000 * sampleSeconds, minSteps, minSeconds, JIT_TOLERANCE_MS, jitQuietSeconds, capSeconds,
                    runSteps, runSeconds);
        }
    }

    /**
     * A warm-up in progress: fed one sample at a time ({@link #add}), it says when the {@link Rule} is met or its cap is
     * hit, and keeps the per-step times for the report. The one mutable piece of the rule, so tests can feed it
     * synthetic step times; its Python twin is peer_bench.py's {@code WarmUp}.
     */
    static final class WarmUp {
        /** Trace points the record keeps: the first {@code TRACE_HEAD} samples as they are, the rest merged into at most {@code TRACE_TAIL}. */
        static final int TRACE_HEAD = 8, TRACE_TAIL = 32;

        private final Rule rule;
        private final boolean jitMonitored;
        private int n;
        private int[] steps = new int[64];
        private double[] seconds = new double[64], ends = new double[64];
        private long totalSteps;
        private double elapsed, quietSince;
        private long quietJitMs;
        private List<String> unmet = List.of("no sample yet");
        private boolean done, capHit;

        /** {@code jitMsAtStart}: the JIT's total compilation time (ms) when the warm-up starts, or -1 where it is not monitored. */
        WarmUp(Rule rule, long jitMsAtStart) {
            this.rule = rule;
            this.jitMonitored = jitMsAtStart >= 0;
            this.quietJitMs = jitMsAtStart;
        }

        /** Steps the next sample should hold: one, or as many as fill about {@code sampleSeconds} at the last sample's pace. */
        int nextSampleSteps() {
            if (n == 0) return 1;
            double perStep = seconds[n - 1] / steps[n - 1];
            return (int) Math.max(1, Math.min(1 << 20, Math.floor(rule.sampleSeconds() / Math.max(perStep, 1e-9))));
        }

        /**
         * Records a sample of {@code sampleSteps} steps that took {@code sampleSeconds}, ending {@code elapsedSeconds} after the
         * warm-up began, with the JIT's total compilation time then ({@code jitMs}; ignored when not monitored). Returns true once
         * the warm-up is over: the rule is met, or the cap is hit ({@link #capHit()}).
         */
        boolean add(int sampleSteps, double sampleSeconds, double elapsedSeconds, long jitMs) {
            if (done) throw new IllegalStateException("warm-up already ended (" + endedBy() + ")");
            if (n == steps.length) {
                steps = Arrays.copyOf(steps, 2 * n);
                seconds = Arrays.copyOf(seconds, 2 * n);
                ends = Arrays.copyOf(ends, 2 * n);
            }
            steps[n] = sampleSteps;
            seconds[n] = sampleSeconds;
            ends[n] = elapsedSeconds;
            n++;
            totalSteps += sampleSteps;
            elapsed = elapsedSeconds;
            if (jitMonitored && jitMs - quietJitMs > Rule.JIT_TOLERANCE_MS) {
                quietSince = elapsedSeconds;
                quietJitMs = jitMs;
            }
            unmet = unmet();
            if (unmet.isEmpty()) done = true;
            else if (elapsedSeconds >= rule.capSeconds()) done = capHit = true;
            return done;
        }

        private List<String> unmet() {
            List<String> out = new ArrayList<>();
            if (totalSteps < rule.minSteps()) out.add("fewer than " + rule.minSteps() + " steps");
            if (elapsed < rule.minSeconds()) out.add("under " + rule.minSeconds() + " s");
            int w = rule.window();
            if (n < 2 * w) {
                out.add("fewer than " + 2 * w + " samples");
            } else {
                double last = windowMedian(n - w, w), before = windowMedian(n - 2 * w, w);
                if (Math.abs(last - before) > rule.tolerance() * before) {
                    out.add(String.format(Locale.ROOT, "step time not stable (%.4g ms vs %.4g ms before)", 1e3 * last, 1e3 * before));
                }
            }
            if (jitMonitored && elapsed - quietSince < rule.jitQuietSeconds()) {
                out.add("JIT compiled in the last " + rule.jitQuietSeconds() + " s");
            }
            return out;
        }

        boolean done() { return done; }

        boolean capHit() { return capHit; }

        int samples() { return n; }

        long steps() { return totalSteps; }

        /** The median per-step time of the last window (s): the pace the timed runs start from. */
        double perStepSeconds() { return n == 0 ? Double.NaN : windowMedian(Math.max(0, n - rule.window()), Math.min(n, rule.window())); }

        // median per-step time (s) of the `count` samples from index `from`
        private double windowMedian(int from, int count) {
            double[] v = new double[count];
            for (int i = 0; i < count; i++) v[i] = seconds[from + i] / steps[from + i];
            Arrays.sort(v);
            return median(v);
        }

        String endedBy() {
            if (!done) return "running: " + String.join("; ", unmet);
            return capHit ? "cap hit at " + rule.capSeconds() + " s: " + String.join("; ", unmet) : "rule met";
        }

        /**
         * Trace points {@code [steps so far, seconds so far, ms per step]}: the first {@link #TRACE_HEAD} samples one by one
         * (the cold steps), then the rest merged, in order, into at most {@link #TRACE_TAIL} equal groups of samples (ms per
         * step of a group = its time / its steps).
         */
        List<Object> trace() {
            List<Object> out = new ArrayList<>();
            long stepsSoFar = 0;
            int head = Math.min(n, TRACE_HEAD), group = (int) Math.ceil((n - head) / (double) TRACE_TAIL);
            for (int i = 0; i < n; ) {
                int end = i < head ? i + 1 : Math.min(n, i + group);
                long s = 0;
                double t = 0;
                for (int j = i; j < end; j++) { s += steps[j]; t += seconds[j]; }
                stepsSoFar += s;
                out.add(List.of(stepsSoFar, round3(ends[end - 1]), ms(t / s)));
                i = end;
            }
            return out;
        }

        /** What the report shows: how the warm-up ended, how long it took, and its trace. */
        Map<String, Object> record() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ended_by", capHit ? "cap" : done ? "rule" : "running");
            m.put("cap_hit", capHit);
            if (capHit) m.put("unmet", unmet);
            m.put("steps", totalSteps);
            m.put("seconds", round3(elapsed));
            m.put("samples", n);
            m.put("jit", jitMonitored ? "monitored" : "not monitored");
            m.put("last_window_ms", ms(perStepSeconds()));
            m.put("trace", trace());
            return m;
        }

        private static double ms(double seconds) {
            return Double.isFinite(seconds) ? Double.parseDouble(String.format(Locale.ROOT, "%.4g", 1e3 * seconds)) : seconds;
        }

        private static double round3(double v) { return Math.round(v * 1000) / 1000.0; }
    }

    /** Runs {@code step} by the rule's warm-up and returns the finished {@link WarmUp}. */
    WarmUp warmUp(Runnable step) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
        WarmUp w = new WarmUp(rule, jitTimed ? jit.getTotalCompilationTime() : -1);
        long t0 = System.nanoTime();
        while (true) {
            int k = w.nextSampleSteps();
            long s0 = System.nanoTime();
            for (int i = 0; i < k; i++) step.run();
            long s1 = System.nanoTime();
            if (w.add(k, (s1 - s0) / 1e9, (s1 - t0) / 1e9, jitTimed ? jit.getTotalCompilationTime() : -1)) return w;
        }
    }

    /**
     * One timed run by the rule: whole steps until at least {@code runSteps} steps and {@code runSeconds} have passed,
     * in chunks sized from the pace so far ({@code perStepSeconds} to start) so the clock is read a few times per run,
     * not per step. Returns {steps, seconds}.
     */
    static double[] timedRun(Runnable step, Rule rule, double perStepSeconds) {
        long chunk = Math.max(rule.runSteps(), (long) Math.ceil(rule.runSeconds() / Math.max(perStepSeconds, 1e-9)));
        long done = 0, t0 = System.nanoTime();
        double el;
        while (true) {
            for (long i = 0; i < chunk; i++) step.run();
            done += chunk;
            el = (System.nanoTime() - t0) / 1e9;
            if (done >= rule.runSteps() && el >= rule.runSeconds()) return new double[] {done, el};
            chunk = Math.max(1, (long) Math.ceil((rule.runSeconds() - el) / Math.max(el / done, 1e-9)));
        }
    }

    /**
     * One throughput figure, the same way for every system in the bench: {@link #warmUp} by the rule, then {@link #measure}
     * over {@link #timedRun}s, in {@code unitsPerStep} (a batch's samples, a GEMM's GFLOP) per second. {@code beforeTimedRuns}
     * runs after the warm-up, just before the first timed run (ModelBench resets heap peaks there). The record holds the
     * warm-up's ({@code warmup}), the shortest run's seconds and steps, and {@link #measure}'s summary.
     */
    Map<String, Object> throughput(Runnable step, double unitsPerStep, Runnable beforeTimedRuns) {
        WarmUp w = warmUp(step);
        double[] pace = {w.perStepSeconds()};
        double[] shortest = {Double.MAX_VALUE, Double.MAX_VALUE};
        beforeTimedRuns.run();
        Map<String, Object> timedRec = measure(() -> {
            double[] r = timedRun(step, rule, pace[0]);
            pace[0] = r[1] / r[0];
            shortest[0] = Math.min(shortest[0], r[0]);
            shortest[1] = Math.min(shortest[1], r[1]);
            return r[0] * unitsPerStep / r[1];
        });
        Map<String, Object> rec = new LinkedHashMap<>(timedRec);
        rec.put("steps_per_run_min", (long) shortest[0]);
        rec.put("run_s_min", Math.round(shortest[1] * 1000) / 1000.0);
        rec.put("warmup", w.record());
        return rec;
    }

    /**
     * One model figure in samples per second ({@link #throughput} of a step of {@code batch} samples), with the figure's
     * names first, as ModelBench and Dl4jBench write it.
     */
    Map<String, Object> samplesPerSecond(String model, String figure, int batch, Runnable step, Runnable beforeTimedRuns) {
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("model", model);
        rec.put("figure", figure);
        rec.put("batch", batch);
        rec.put("unit", "samples/s");
        rec.putAll(throughput(step, batch, beforeTimedRuns));
        return rec;
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
}
