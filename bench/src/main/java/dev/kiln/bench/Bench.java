package dev.kiln.bench;

import dev.kiln.io.Json;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./kiln bench}: runs Kiln and the PyTorch peer on the same models, shapes and optimizer, one after the other
 * (never together: they would share the two cores), and writes the comparison to {@code bench/results/NAME.{md,json,png}}.
 *
 * <p>Every measurement runs in a child process, because thread counts are fixed when a process starts: Kiln's by
 * {@code -Dkiln.threads} (one JVM per thread count), PyTorch's by OpenMP/OpenBLAS environment variables (the peer
 * script starts one interpreter per configuration). Each side's best configuration per figure is reported and named.
 *
 * <pre>
 * ./kiln bench [--quick] [--models M1,M2,M3,M4] [--max-threads N] [--name NAME] [--peers torch|dl4j|torch,dl4j|none] [--no-peer]
 *              [--peer-json FILE]     (reuse the peer's result JSON of an earlier run on this machine)
 *              [--dl4j-json FILE]     (the same for the Deeplearning4j peer)
 *              [--models-only]        (only the model figures: no GEMM, batch sweep or first step; the quickest peer comparison)
 * java ... dev.kiln.bench.Bench --render bench/results/NAME.json      (re-renders NAME.md and NAME.png)
 * </pre>
 * Every figure of every side follows one warm-up and timed-run rule, {@link Timed.Rule#STANDARD}, passed to the PyTorch
 * peer as {@code --rule}; {@code --quick} searches fewer configurations under the same rule (bench/README.md).
 * Children: {@code probe.FmaPeak} (the measured peak), {@link ModelBench}, {@link GemmBench}, {@link FirstStep},
 * and {@code bench/python/peer_bench.py all}; with {@code --peers dl4j}, also {@code Dl4jBench} of the separate Maven project
 * bench/dl4j (built by bench/scripts/bench.sh only then: its nd4j natives are ~120 MB), one JVM per OMP_NUM_THREADS.
 */
public final class Bench {
    private Bench() {}

    private static final List<String> JVM_FLAGS = List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-Djava.awt.headless=true");
    private static final List<String> FIGURES = List.of("train", "infer_b1", "infer_b256");

    /**
     * Model figures quick mode leaves out on both sides (the peer's {@code model_figures} says the same): M4 inference at
     * batch 256 takes about a second a step in Kiln and three in PyTorch, so the rule's warm-up (ten samples) and three
     * runs of ten steps would take about two and a half minutes of a quick run.
     */
    static final List<String> QUICK_EXCEPT = List.of("M4:infer_b256");

    /** What this run was asked to do. */
    record Settings(boolean quick, Path root, List<String> models, List<Integer> threads, Set<String> peers, String name, Path work) {
        int maxThreads() { return threads.getLast(); }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        if (a.containsKey("render")) {
            // Re-renders bench/results/X.{md,png} from X.json, e.g. after the report's layout changed.
            Path json = Path.of(a.get("render"));
            Map<String, Object> r = map(Json.parse(Files.readString(json)));
            String base = json.getFileName().toString().replaceFirst("\\.json$", "");
            Files.writeString(json.resolveSibling(base + ".md"), BenchReport.markdown(r));
            BenchChart.chart(r, json.resolveSibling(base + ".png"));
            return;
        }
        boolean quick = a.containsKey("quick");
        Path root = Path.of(a.getOrDefault("root", ".")).toAbsolutePath().normalize();
        int cpus = Runtime.getRuntime().availableProcessors();
        int maxThreads = Integer.parseInt(a.getOrDefault("max-threads", Integer.toString(cpus)));
        TreeSet<Integer> ts = new TreeSet<>();
        for (int t = 1; t <= Math.min(2, maxThreads); t++) ts.add(t);
        ts.add(maxThreads);
        Set<String> peers = peers(a);
        String name = a.getOrDefault("name", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + (quick ? "-quick" : ""));
        Path work = Files.createTempDirectory("kiln-bench-");
        Settings s = new Settings(quick, root, List.of(a.getOrDefault("models", "M1,M2,M3,M4").toUpperCase().split(",")),
                List.copyOf(ts), peers, name, work);
        long start = System.nanoTime();

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("schema", "kiln-bench/1");
        result.put("name", name);
        result.put("quick", quick);
        result.put("machine", machine());
        result.put("rule", rule());
        Map<String, Object> phases = new LinkedHashMap<>();
        result.put("phase_s", phases);

        long t = System.nanoTime();
        log("measuring the machine's fp32 FMA peak (probe, 1 thread and all cores)");
        result.put("fma_peak", fmaPeak(s));
        phases.put("fma_peak", secondsSince(t));

        Map<String, Object> kiln = new LinkedHashMap<>();
        result.put("kiln", kiln);
        kiln.put("jvm_flags", JVM_FLAGS);
        kiln.put("threads_tried", s.threads());
        t = System.nanoTime();
        kiln.put("models", kilnModels(s));
        phases.put("kiln_models", secondsSince(t));
        boolean modelsOnly = a.containsKey("models-only");
        if (!modelsOnly) {
            t = System.nanoTime();
            kiln.put("gemm", kilnGemm(s));
            phases.put("kiln_gemm", secondsSince(t));
        }
        t = System.nanoTime();
        int bestT = BenchReport.kilnBestThreads(kiln, "M1", "train", s.maxThreads());
        if (s.models().contains("M1") && !modelsOnly) {
            kiln.put("batch_sweep", kilnSweep(s, bestT));
            phases.put("kiln_sweep", secondsSince(t));
            t = System.nanoTime();
            kiln.put("first_step", kilnFirstStep(s, bestT));
            phases.put("kiln_first_step", secondsSince(t));
        }

        if (peers.contains("torch")) {
            t = System.nanoTime();
            if (a.containsKey("peer-json")) {
                // A peer result from an earlier run on this machine: the peer's figures do not depend on Kiln's code.
                log("PyTorch peer: reusing " + a.get("peer-json"));
                result.put("peer", map(Json.parse(Files.readString(Path.of(a.get("peer-json"))))));
                result.put("peer_reused_from", a.get("peer-json"));
            } else {
                result.put("peer", peer(s));
            }
            phases.put("peer", secondsSince(t));
        } else {
            result.put("peer_note", a.containsKey("torch-unavailable")
                    ? "PyTorch peer not run: bench/scripts/install-peer.sh could not install it (see its output)"
                    : "PyTorch peer not run (--no-peer, or --peers without torch)");
        }
        if (peers.contains("dl4j")) {
            t = System.nanoTime();
            if (a.containsKey("dl4j-json")) {
                log("Deeplearning4j peer: reusing " + a.get("dl4j-json"));
                result.put("dl4j", map(Json.parse(Files.readString(Path.of(a.get("dl4j-json"))))));
                result.put("dl4j_reused_from", a.get("dl4j-json"));
            } else {
                result.put("dl4j", dl4j(s));
            }
            phases.put("dl4j", secondsSince(t));
        }
        result.put("wall_s", secondsSince(start));

        Path dir = root.resolve("bench/results");
        Files.createDirectories(dir);
        // The JSON first: a report that fails to render can be redone from it with --render.
        Files.writeString(dir.resolve(name + ".json"), Json.write(result));
        String md = BenchReport.markdown(result);
        System.out.println();
        System.out.println(BenchReport.terminal(md));
        Files.writeString(dir.resolve(name + ".md"), md);
        BenchChart.chart(result, dir.resolve(name + ".png"));
        log(String.format("wrote bench/results/%s.{md,json,png} in %.0f s", name, secondsSince(start)));
    }

    // ---- Kiln's children

    static Map<String, Object> fmaPeak(Settings s) throws IOException, InterruptedException {
        List<String> out = javaChild(s, "dev.kiln.bench.probe.FmaPeak", s.maxThreads(),
                List.of("--reps", s.quick() ? "3" : "7", "--seconds", s.quick() ? "0.1" : "0.3"), null);
        StringBuilder json = new StringBuilder();
        boolean in = false;
        for (String line : out) {
            if (line.startsWith("{")) in = true;
            if (in) json.append(line).append('\n');
        }
        return map(Json.parse(json.toString()));
    }

    static List<Object> kilnModels(Settings s) throws IOException, InterruptedException {
        List<Object> perThreads = new ArrayList<>();
        for (int t : s.threads()) {
            List<String> models = new ArrayList<>(s.models());
            // Quick mode runs M4 (about a fifth of a second a training step) on all threads only, as the peer's quick mode does.
            if (s.quick() && t != s.maxThreads()) models.remove("M4");
            if (models.isEmpty()) continue;
            log("Kiln models " + String.join(",", models) + " on " + t + " thread(s)");
            Path res = s.work().resolve("kiln-models-t" + t + ".json");
            List<String> args = new ArrayList<>(List.of("--model", String.join(",", models), "--figures", String.join(",", FIGURES),
                    "--result", res.toString()));
            if (s.quick()) args.addAll(List.of("--except", String.join(",", QUICK_EXCEPT)));
            else args.addAll(List.of("--reps", "5"));
            args.addAll(timing(s));
            javaChild(s, "dev.kiln.bench.ModelBench", t, args, null);
            perThreads.add(map(Json.parse(Files.readString(res))));
        }
        return perThreads;
    }

    static List<Object> kilnGemm(Settings s) throws IOException, InterruptedException {
        List<Object> perThreads = new ArrayList<>();
        // Quick mode times GEMM on the full thread count only, and fewer shapes (GemmBench.QUICK_MODEL_SHAPES), as the peer does.
        for (int t : s.quick() ? List.of(s.maxThreads()) : s.threads()) {
            String set = "squares,models";
            log("Kiln GEMM on " + t + " thread(s): " + set + (s.quick() ? " (quick: one model shape each)" : ""));
            Path res = s.work().resolve("kiln-gemm-t" + t + ".json");
            List<String> args = new ArrayList<>(List.of("--set", set, "--result", res.toString()));
            if (s.quick()) args.add("--quick");
            else args.addAll(List.of("--reps", "5"));
            args.addAll(timing(s));
            javaChild(s, "dev.kiln.bench.GemmBench", t, args, null);
            perThreads.add(map(Json.parse(Files.readString(res))));
        }
        return perThreads;
    }

    static Map<String, Object> kilnSweep(Settings s, int threads) throws IOException, InterruptedException {
        List<Integer> batches = new ArrayList<>();
        if (s.quick()) batches.addAll(List.of(1, 16, 256, 4096));
        else for (int b = 1; b <= 4096; b *= 2) batches.add(b);
        List<String> figs = new ArrayList<>();
        for (int b : batches) figs.add("train_b" + b);
        for (int b : batches) figs.add("infer_b" + b);
        log("Kiln M1 batch sweep on " + threads + " thread(s): " + batches);
        Path res = s.work().resolve("kiln-sweep.json");
        List<String> args = new ArrayList<>(List.of("--model", "M1", "--figures", String.join(",", figs), "--result", res.toString()));
        if (!s.quick()) args.addAll(List.of("--reps", "5"));
        args.addAll(timing(s));
        javaChild(s, "dev.kiln.bench.ModelBench", threads, args, null);
        Map<String, Object> out = map(Json.parse(Files.readString(res)));
        out.put("model", "M1");
        return out;
    }

    /** Spawn → "STEP-DONE" line, timed here as the peer times its own; plus the child's own since-JVM-start figure. */
    static Map<String, Object> kilnFirstStep(Settings s, int threads) {
        log("Kiln M1 time to the end of the first training step (fresh JVM, " + threads + " thread(s))");
        List<Object> inner = new ArrayList<>();
        Timed timed = new Timed(s.quick() ? 3 : 5, s.quick() ? 2 : 10, 0.10, s.quick() ? 0.3 : 10);
        Map<String, Object> r = timed.measure(() -> {
            try {
                Path res = Files.createTempFile(s.work(), "first-", ".json");
                long t0 = System.nanoTime();
                double[] elapsed = {Double.NaN};
                javaChild(s, "dev.kiln.bench.FirstStep", threads, List.of("--result", res.toString()),
                        line -> { if (line.equals("STEP-DONE")) elapsed[0] = secondsSince(t0); });
                inner.add(map(Json.parse(Files.readString(res))));
                return elapsed[0];
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException("first-step child failed", e);
            }
        });
        r.put("model", "M1");
        r.put("threads", threads);
        r.put("unit", "s");
        r.put("method", "spawn of the JVM to its STEP-DONE line, timed by the parent (as for the peer)");
        r.put("launcher_flags", launcherFlags());
        List<Double> sinceStart = new ArrayList<>();
        for (Object o : inner) sinceStart.add(num(map(o).get("since_jvm_start_s")));
        r.put("since_jvm_start_s", sinceStart);
        r.put("breakdown_last", inner.getLast());
        return r;
    }

    static List<String> timing(Settings s) {
        return s.quick() ? List.of("--max-reruns", "3", "--max-wait", "0.3") : List.of("--max-reruns", "20", "--max-wait", "10");
    }

    /** The warm-up and timed-run rule of this run, as constants and in words (the report states it). */
    static Map<String, Object> rule() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("constants", Timed.Rule.STANDARD.encoded());
        m.put("words", Timed.Rule.STANDARD.words());
        return m;
    }

    // ---- the peer

    static Map<String, Object> peer(Settings s) throws IOException, InterruptedException {
        Path res = s.work().resolve("peer.json");
        // The peer follows the same warm-up and timed-run rule: its constants come from here, so the two cannot drift.
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", s.root().resolve("bench/python/peer_bench.py").toString(), "all",
                "--rule", Timed.Rule.STANDARD.encoded(),
                "--out", res.toString(), "--max-threads", Integer.toString(s.maxThreads()), "--models", String.join(",", s.models())));
        if (s.quick()) cmd.add("--quick");
        log("PyTorch peer: " + String.join(" ", cmd.subList(1, cmd.size())));
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) throw new IllegalStateException("the PyTorch peer failed (exit " + p.exitValue() + "); see its output above");
        return map(Json.parse(Files.readString(res)));
    }

    /**
     * The peers asked for: {@code --peers} is a comma list of torch and dl4j (or none; default torch; dl4j alone adds
     * DL4J to PyTorch, as the issue words it); {@code --no-peer}
     * means none; {@code --torch-unavailable} (added by bench.sh when it could not install PyTorch) drops torch only.
     */
    static Set<String> peers(Map<String, String> a) {
        Set<String> out = new LinkedHashSet<>();
        if (a.containsKey("no-peer")) return out;
        for (String p : a.getOrDefault("peers", "torch").toLowerCase(Locale.ROOT).split(",")) {
            switch (p.trim()) {
                case "torch", "dl4j" -> out.add(p.trim());
                case "none", "" -> { }
                default -> throw new IllegalArgumentException("--peers takes torch, dl4j, torch,dl4j or none; got '" + a.get("peers") + "'");
            }
        }
        // the issue's `--peers dl4j` *adds* the Java peer: PyTorch stays the reference peer
        if (out.equals(Set.of("dl4j"))) { out.clear(); out.add("torch"); out.add("dl4j"); }
        if (a.containsKey("torch-unavailable")) out.remove("torch");
        return out;
    }

    /** The models the DL4J peer runs (issue 10: M1–M3; M4 is left to the PyTorch peer). */
    static final List<String> DL4J_MODELS = List.of("M1", "M2", "M3");

    /**
     * The Deeplearning4j peer: {@code Dl4jBench} in one JVM per OMP_NUM_THREADS value (nd4j sizes its OpenMP pool and
     * OpenBLAS from it once, at load), each on the models' training and inference figures; the report picks the best per
     * figure. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset for it as for the PyTorch peer (a Haswell core type would force
     * AVX2 kernels on an AVX-512 machine).
     */
    static Map<String, Object> dl4j(Settings s) throws IOException, InterruptedException {
        Path dir = s.root().resolve("bench/dl4j/target");
        Path cpFile = dir.resolve("dl4j-classpath.txt");
        if (!Files.isReadable(cpFile)) {
            throw new IllegalStateException(cpFile + " is missing: bench/scripts/bench.sh builds bench/dl4j when --peers names dl4j");
        }
        String cp = dir.resolve("classes") + java.io.File.pathSeparator + Files.readString(cpFile).trim();
        List<String> models = new ArrayList<>(s.models());
        models.retainAll(DL4J_MODELS);
        Map<String, Object> out = new LinkedHashMap<>();
        List<Object> perThreads = new ArrayList<>();
        List<Integer> tried = new ArrayList<>();
        if (models.isEmpty()) {
            out.put("note", "no model of M1–M3 asked for; the DL4J peer runs only those");
        }
        for (int t : models.isEmpty() ? List.<Integer>of() : s.threads()) {
            log("Deeplearning4j peer " + String.join(",", models) + " with OMP_NUM_THREADS=" + t);
            Path res = s.work().resolve("dl4j-t" + t + ".json");
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", s.quick() ? "-Xmx2g" : "-Xmx6g", "-cp", cp, "dev.kiln.bench.Dl4jBench",
                    "--model", String.join(",", models), "--figures", String.join(",", FIGURES), "--result", res.toString()));
            if (!s.quick()) cmd.addAll(List.of("--reps", "5"));
            cmd.addAll(timing(s));
            Map<String, String> env = new LinkedHashMap<>(System.getenv());
            env.put("OMP_NUM_THREADS", Integer.toString(t));
            env.remove("OPENBLAS_CORETYPE");
            env.remove("OPENBLAS_L2_SIZE");
            child(s, cmd, env, "Dl4jBench with OMP_NUM_THREADS=" + t, null);
            perThreads.add(map(Json.parse(Files.readString(res))));
            tried.add(t);
        }
        out.put("threads_tried", tried);
        if (!perThreads.isEmpty()) out.put("facts", map(perThreads.getFirst()).get("facts"));
        out.put("models", perThreads);
        return out;
    }

    // ---- processes

    interface LineListener { void line(String line); }

    /** Runs {@code main} in a fresh JVM with {@code threads} Kiln threads; returns its stdout lines, failing loudly on a non-zero exit. */
    static List<String> javaChild(Settings s, String main, int threads, List<String> args, LineListener listener)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(JVM_FLAGS);
        cmd.addAll(launcherFlags());
        cmd.add("-Dkiln.threads=" + threads);
        cmd.add(s.quick() ? "-Xmx2g" : "-Xmx6g");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(args);
        return child(s, cmd, null, main + " on " + threads + " thread(s)", listener);
    }

    /**
     * The launcher's flags this process was started with, for every child: the JIT settings ({@code -XX:CompileCommand})
     * and the AOT cache ({@code -XX:AOTCache}, passed by ./kiln only when fresh), so children start as ./kiln run does.
     */
    static List<String> launcherFlags() {
        List<String> out = new ArrayList<>();
        for (String f : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (f.startsWith("-XX:CompileCommand=") || f.startsWith("-XX:AOTCache=")) out.add(f);
        }
        return out;
    }

    /** Runs {@code cmd} (with {@code env} as its whole environment, or this one's when null); its stdout lines, failing loudly. */
    static List<String> child(Settings s, List<String> cmd, Map<String, String> env, String what, LineListener listener)
            throws IOException, InterruptedException {
        Path err = Files.createTempFile(s.work(), "child-", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        if (env != null) {
            pb.environment().clear();
            pb.environment().putAll(env);
        }
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (listener != null) listener.line(line);
                lines.add(line);
            }
        }
        if (!p.waitFor(30, TimeUnit.MINUTES)) p.destroyForcibly();
        if (p.exitValue() != 0) {
            List<String> e = Files.readAllLines(err);
            throw new IllegalStateException(what + " failed (exit " + p.exitValue() + "):\n"
                    + String.join("\n", e.subList(Math.max(0, e.size() - 30), e.size())));
        }
        for (String line : Files.readAllLines(err)) {
            // JVM warnings, and nd4j's start-up log (its facts are in the result JSON), are not worth a line here.
            if (!line.startsWith("WARNING:") && !line.startsWith("[main] INFO") && !line.isBlank()) System.err.println("  " + line);
        }
        return lines;
    }

    // ---- facts

    static Map<String, Object> machine() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        try {
            m.put("hostname", Files.readString(Path.of("/proc/sys/kernel/hostname")).trim());
        } catch (IOException e) {
            m.put("hostname", "?");
        }
        String cpu = "?";
        Path info = Path.of("/proc/cpuinfo");
        if (Files.isReadable(info)) {
            for (String line : Files.readAllLines(info)) {
                if (line.startsWith("model name")) { cpu = line.substring(line.indexOf(':') + 1).trim(); break; }
            }
        }
        m.put("cpu_model", cpu);
        m.put("logical_cpus", Runtime.getRuntime().availableProcessors());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("jdk", System.getProperty("java.vendor") + " " + System.getProperty("java.runtime.version"));
        m.put("java_home", System.getProperty("java.home"));
        m.put("vector_bits", jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
        return m;
    }

    // ---- small helpers shared with the report

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) { return (Map<String, Object>) o; }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) { return o == null ? List.of() : (List<Object>) o; }

    static double num(Object o) { return o == null ? Double.NaN : ((Number) o).doubleValue(); }

    static double secondsSince(long t0) { return (System.nanoTime() - t0) / 1e9; }

    static void log(String msg) {
        System.err.println("[bench] " + msg);
    }
}
