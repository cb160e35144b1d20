package dev.kiln.bench;


import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

import static dev.kiln.bench.Bench.list;
import static dev.kiln.bench.Bench.map;

/** Turns {@link Bench}'s collected JSON into the Markdown report (also printed to the terminal) and a 2×2 PNG chart. */
final class BenchReport {
    private BenchReport() {}

    /** One figure as reported: median and range, and the configuration that gave it. */
    record Best(double median, double min, double max, String config, int threads) {
        static final Best NONE = new Best(Double.NaN, Double.NaN, Double.NaN, "-", 0);
        boolean present() { return Double.isFinite(median); }
    }

    // ---- picking best configurations

    /** Kiln's best thread count for a model figure (highest median over the thread counts tried). */
    static Best kilnBest(Map<String, Object> kiln, String model, String figure) {
        return bestOverThreads(kiln, model, figure, t -> t + " thread" + (t > 1 ? "s" : ""));
    }

    /** The Deeplearning4j peer's best OMP_NUM_THREADS for a model figure; its results have Kiln's shape. */
    static Best dl4jBest(Map<String, Object> dl4j, String model, String figure) {
        return dl4j == null ? Best.NONE : bestOverThreads(dl4j, model, figure, t -> "OMP_NUM_THREADS=" + t);
    }

    // results {models: [{threads, records: [...]}, ...]}, one entry per thread count (one JVM each): the highest median
    private static Best bestOverThreads(Map<String, Object> results, String model, String figure, IntFunction<String> config) {
        Best best = Best.NONE;
        for (Object perT : list(results.get("models"))) {
            int threads = (int) num(map(perT).get("threads"));
            Map<String, Object> r = recordAt(results, model, figure, threads);
            if (r != null && (!best.present() || num(r.get("median")) > best.median())) {
                best = new Best(num(r.get("median")), num(r.get("min")), num(r.get("max")), config.apply(threads), threads);
            }
        }
        return best;
    }

    // the record of a model figure in the run with this many threads, or null
    private static Map<String, Object> recordAt(Map<String, Object> results, String model, String figure, int threads) {
        for (Object perT : list(results.get("models"))) {
            if ((int) num(map(perT).get("threads")) != threads) continue;
            for (Object o : list(map(perT).get("records"))) {
                Map<String, Object> r = map(o);
                if (model.equals(r.get("model")) && figure.equals(r.get("figure"))) return r;
            }
        }
        return null;
    }

    /** What the DL4J peer ran, in words: versions, natives build, BLAS, JDK, thread counts tried. */
    static String dl4jFacts(Map<String, Object> dl4j) {
        if (!dl4j.containsKey("facts")) return "no figures (" + dl4j.getOrDefault("note", "no run") + ")";
        Map<String, Object> f = map(dl4j.get("facts"));
        Map<String, Object> env = f.containsKey("nd4j_environment") ? map(f.get("nd4j_environment")) : Map.of();
        return String.format(Locale.ROOT, "Deeplearning4j %s, nd4j-native %s (natives %s, javacpp platform extension '%s'), BLAS %s; %s; "
                        + "OMP_NUM_THREADS tried: %s (one JVM each; nd4j sizes OpenMP and OpenBLAS from it)",
                f.get("dl4j"), f.get("nd4j"), f.get("nd4j_natives_jar"), f.get("platform_extension"), env.getOrDefault("blas.vendor", "?"),
                f.get("jdk"), dl4j.get("threads_tried"));
    }

    static Best kilnAt(Map<String, Object> kiln, String model, String figure, int threads) {
        Map<String, Object> r = recordAt(kiln, model, figure, threads);
        return r == null ? Best.NONE : new Best(num(r.get("median")), num(r.get("min")), num(r.get("max")), threads + " threads", threads);
    }

    static int kilnBestThreads(Map<String, Object> kiln, String model, String figure, int fallback) {
        Best b = kilnBest(kiln, model, figure);
        return b.present() ? b.threads() : fallback;
    }

    /** Kiln's record of a model figure at its best thread count (the run {@link #kilnBest} reports), or null. */
    static Map<String, Object> kilnBestRecord(Map<String, Object> kiln, String model, String figure) {
        Best best = kilnBest(kiln, model, figure);
        return best.present() ? recordAt(kiln, model, figure, best.threads()) : null;
    }

    /** The DL4J peer's record of a model figure at its best OMP_NUM_THREADS (the run {@link #dl4jBest} reports), or null. */
    static Map<String, Object> dl4jBestRecord(Map<String, Object> dl4j, String model, String figure) {
        Best best = dl4jBest(dl4j, model, figure);
        return best.present() ? recordAt(dl4j, model, figure, best.threads()) : null;
    }

    /** The PyTorch peer's best configuration of a model figure (config, median, range, and, since the warm-up rule, its warm-up), or null. */
    static Map<String, Object> peerBestRecord(Map<String, Object> peer, String model, String figure) {
        if (peer == null) return null;
        for (Object o : list(peer.get("models"))) {
            Map<String, Object> r = map(o);
            if (model.equals(r.get("model")) && figure.equals(r.get("figure"))) {
                Map<String, Object> best = new LinkedHashMap<>(map(r.get("best")));
                best.putIfAbsent("batch", r.get("batch"));
                return best;
            }
        }
        return null;
    }

    static final List<String> MEMORY_FIELDS = List.of("peak_heap_bytes", "live_heap_bytes", "variable_bytes", "arena_bytes", "workspace_bytes",
            "budget_bytes");

    /**
     * Issue 10's training memory figure per model (from the train record of the best thread count), or nothing where no
     * record has the memory fields (results written before ModelBench measured them); a missing field reads "-".
     */
    static String memorySection(Map<String, Object> kiln, List<String> models) {
        List<Map<String, Object>> recs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String model : models) {
            Map<String, Object> rec = kilnBestRecord(kiln, model, "train");
            if (rec == null || MEMORY_FIELDS.stream().noneMatch(rec::containsKey)) continue;
            recs.add(rec);
            names.add(model);
        }
        if (recs.isEmpty()) return "";
        StringBuilder md = new StringBuilder();
        line(md, "## Memory in training (Kiln, best thread count's run; MB = 10^6 bytes; budget = 2 × (variables + arena + workspace))");
        line(md, "");
        line(md, "| Model | Peak heap MB | Live heap after GC MB | Variables MB | Arena MB | Workspace MB | Budget MB | Peak/budget |");
        line(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < recs.size(); i++) {
            Map<String, Object> rec = recs.get(i);
            double peak = num(rec.get("peak_heap_bytes")), budget = num(rec.get("budget_bytes"));
            line(md, "| %s | %s | %s | %s | %s | %s | %s | %s |", names.get(i), mb(peak), mb(num(rec.get("live_heap_bytes"))),
                    mb(num(rec.get("variable_bytes"))), mb(num(rec.get("arena_bytes"))), mb(num(rec.get("workspace_bytes"))), mb(budget),
                    ratio(peak, budget));
        }
        line(md, "");
        line(md, "Peak heap: the sum of the JVM heap pools' peak use over the timed steady-state training runs, peaks reset after a GC "
                + "before them (the whole JVM's heap: model, data, bench bookkeeping); live heap: heap in use after a GC once they end. "
                + "Variables: weights, optimizer slots, moving statistics; arena: activations, gradients, temporaries; workspace: the "
                + "program's conv scratch. Zero allocation per step is checked by the test suite (cpu-fallback MlpTrainingTest, FusedAndAllocationTest).");
        line(md, "");
        return md.toString();
    }

    private static String mb(double bytes) { return num(bytes / 1e6); }

    static Best peerBest(Map<String, Object> peer, String model, String figure) {
        if (peer == null) return Best.NONE;
        for (Object o : list(peer.get("models"))) {
            Map<String, Object> r = map(o);
            if (model.equals(r.get("model")) && figure.equals(r.get("figure"))) {
                Map<String, Object> b = map(r.get("best"));
                return new Best(num(b.get("median")), num(b.get("min")), num(b.get("max")), String.valueOf(b.get("config")), 0);
            }
        }
        return Best.NONE;
    }

    /** GEMM medians by shape label, for one side's list of per-thread-count results. */
    static Map<String, Double> gemmAt(List<Object> perThreads, int threads) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Object perT : perThreads) {
            if ((int) num(map(perT).get("threads")) != threads) continue;
            for (Object o : list(map(perT).get("shapes"))) {
                Map<String, Object> r = map(o);
                out.put((String) r.get("label"), r.containsKey("wrong") ? Double.NaN : num(r.get("median")));
            }
        }
        return out;
    }

    static List<String> gemmLabels(List<Object> perThreads) {
        List<String> labels = new ArrayList<>();
        for (Object perT : perThreads) {
            for (Object o : list(map(perT).get("shapes"))) {
                String l = (String) map(o).get("label");
                if (!labels.contains(l)) labels.add(l);
            }
        }
        return labels;
    }

    // ---- Markdown

    static String markdown(Map<String, Object> r) {
        StringBuilder md = new StringBuilder();
        Map<String, Object> machine = map(r.get("machine")), kiln = map(r.get("kiln")), fma = map(r.get("fma_peak"));
        Map<String, Object> peer = r.containsKey("peer") ? map(r.get("peer")) : null;
        Map<String, Object> facts = peer == null ? null : map(peer.get("peer"));
        List<Object> threadsTried = list(kiln.get("threads_tried"));
        int maxT = (int) num(threadsTried.getLast());
        line(md, "# Kiln bench: %s%s", r.get("name"), Boolean.TRUE.equals(r.get("quick")) ? " (quick)" : "");
        line(md, "");
        line(md, "- Machine: %s, %s, %d logical CPUs, %s", machine.get("hostname"), machine.get("cpu_model"), (int) num(machine.get("logical_cpus")), machine.get("os"));
        line(md, "- JDK: %s (preferred vector %d bits); Kiln threads tried: %s (one JVM each, -Dkiln.threads)", machine.get("jdk"),
                (int) num(machine.get("vector_bits")), threadsTried);
        if (facts != null) {
            Map<String, Object> ob = map(facts.get("openblas"));
            line(md, "- Peer: PyTorch %s (Debian python3-torch, CPU capability %s), numpy %s, OpenBLAS %s core %s; configurations searched: %s",
                    facts.get("torch"), facts.get("capability"), facts.get("numpy"), ob.get("version"), ob.get("corename"), peerConfigs(peer));
        } else {
            line(md, "- Peer: %s", r.get("peer_note"));
        }
        if (peer != null) for (Object note : list(peer.get("notes"))) line(md, "- Peer note: %s", note);
        if (r.containsKey("peer_reused_from")) line(md, "- Peer figures reused from %s (an earlier run on this machine)", r.get("peer_reused_from"));
        Map<String, Object> dl4j = r.containsKey("dl4j") ? map(r.get("dl4j")) : null;
        if (dl4j != null) {
            line(md, "- Java peer: %s", dl4jFacts(dl4j));
            if (r.containsKey("dl4j_reused_from")) line(md, "- DL4J figures reused from %s (an earlier run on this machine)", r.get("dl4j_reused_from"));
        } else {
            line(md, "- Java peer not run: Deeplearning4j (`--peers torch,dl4j` or `--peers dl4j` adds it on M1–M3)");
        }
        line(md, "- Measured fp32 FMA peak (probe, best of reps): %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d cores; clock ≈ %.2f GHz, %.1f FLOP/cycle/core → cores × clock × FMA width = %.1f GFLOP/s",
                num(map(fma.get("one_thread_gflops")).get("best")), num(map(fma.get("all_cores_gflops")).get("best")), (int) num(fma.get("cores")),
                num(map(fma.get("clock_ghz_estimate")).get("best")), num(fma.get("flops_per_cycle_per_core")), num(fma.get("nominal_peak_gflops")));
        if (r.containsKey("rule")) {
            line(md, "- Timing rule, the same on every side (constants passed to the peer): %s; every figure is the median of ≥ 3 timed runs, "
                    + "[min–max]; same random-data shapes, Adam(1e-3), fp32 on both sides.", map(r.get("rule")).get("words"));
        } else {
            line(md, "- Every figure: warm-up, then the median of ≥ 3 timed runs, [min–max]; same random-data shapes, Adam(1e-3), fp32 on both sides.");
        }
        if (Boolean.TRUE.equals(r.get("quick")) && r.containsKey("rule")) {
            line(md, "- Quick mode searches fewer configurations and shapes than the full run, never with a shorter warm-up or shorter runs; "
                    + "it leaves out %s on both sides (full run only).", String.join(", ", Bench.QUICK_EXCEPT));
        }
        line(md, "- Wall time: %.0f s (phases: %s)", num(r.get("wall_s")), phases(map(r.get("phase_s"))));
        line(md, "");

        line(md, "## Models M1–M4 (samples/s; ratio > 1: Kiln faster)");
        line(md, "");
        line(md, "| Model | Figure | Batch | Kiln | Kiln config | PyTorch | PyTorch config | Kiln/PyTorch |");
        line(md, "|---|---|---:|---:|---|---:|---|---:|");
        for (String model : models(r)) {
            for (String fig : List.of("train", "infer_b1", "infer_b256")) {
                Best k = kilnBest(kiln, model, fig), p = peerBest(peer, model, fig);
                if (!k.present() && !p.present()) continue;
                line(md, "| %s | %s | %d | %s | %s | %s | %s | %s |", model, fig, batchOf(kiln, model, fig), fmt(k), k.config(), fmt(p), p.config(),
                        ratio(k.median(), p.median()));
            }
        }
        line(md, "");

        md.append(WarmUpReport.section(r));
        md.append(memorySection(kiln, models(r)));

        if (dl4j != null) {
            line(md, "## Java peer: Deeplearning4j on M1–M3 (samples/s; ratio > 1: Kiln faster)");
            line(md, "");
            line(md, "| Model | Figure | Batch | Kiln | Kiln config | DL4J | DL4J config | Kiln/DL4J |");
            line(md, "|---|---|---:|---:|---|---:|---|---:|");
            for (String model : models(r)) {
                for (String fig : List.of("train", "infer_b1", "infer_b256")) {
                    Best k = kilnBest(kiln, model, fig), d = dl4jBest(dl4j, model, fig);
                    if (!d.present()) continue;
                    line(md, "| %s | %s | %d | %s | %s | %s | %s | %s |", model, fig, batchOf(kiln, model, fig), fmt(k), k.config(), fmt(d), d.config(),
                            ratio(k.median(), d.median()));
                }
            }
            line(md, "");
            line(md, "DL4J's models: MultiLayerNetwork, Xavier-uniform (Glorot) weights and zero biases as Kiln's, Adam(1e-3), fp32; M3 in DL4J's "
                    + "NCHW layout, its cross-entropy as MCXENT on softmax with one-hot labels (DL4J's equivalent of sparse CE from logits).");
            line(md, "");
        }

        if (peer != null) {
            line(md, "## PyTorch's ATen CPU capability (best samples/s with ATEN_CPU_CAPABILITY unset, where Debian's torch picks AVX2, and =avx512)");
            line(md, "");
            line(md, "| Model | Figure | aten-default | avx512 | Winner |");
            line(md, "|---|---|---:|---:|---|");
            for (Object o : list(peer.get("models"))) {
                Map<String, Object> rec = map(o);
                if (!rec.containsKey("by_capability")) continue;
                Map<String, Object> byCap = map(rec.get("by_capability"));
                double d = num(byCap.get("aten-default")), x = num(byCap.get("avx512"));
                String winner = !Double.isFinite(x) || !Double.isFinite(d) ? "(one tried)" : x > d ? String.format(Locale.ROOT, "avx512 (%.2f×)", x / d)
                        : String.format(Locale.ROOT, "aten-default (%.2f×)", d / x);
                line(md, "| %s | %s | %s | %s | %s |", rec.get("model"), rec.get("figure"), num(d), num(x), winner);
            }
            line(md, "");
        }

        line(md, "## Threads 1 → 2 (samples/s at the best configuration with at most that many threads)");
        line(md, "");
        line(md, "| Model | Figure | Kiln 1 | Kiln 2 | Kiln × | PyTorch 1 | PyTorch 2 | PyTorch × |");
        line(md, "|---|---|---:|---:|---:|---:|---:|---:|");
        for (String model : models(r)) {
            for (String fig : List.of("train", "infer_b1", "infer_b256")) {
                Best k1 = kilnAt(kiln, model, fig, 1), k2 = kilnAt(kiln, model, fig, 2);
                Map<String, Object> ps = peerScaling(peer, model, fig);
                double p1 = ps == null ? Double.NaN : num(map(ps.get("one_thread")).get("median"));
                double p2 = ps == null ? Double.NaN : num(map(ps.get("two_threads")).get("median"));
                if (!k1.present() && !k2.present() && ps == null) continue;
                line(md, "| %s | %s | %s | %s | %s | %s | %s | %s |", model, fig, num(k1.median()), num(k2.median()), ratio(k2.median(), k1.median()),
                        num(p1), num(p2), ratio(p2, p1));
            }
        }
        line(md, "");

        List<Object> kg = list(kiln.get("gemm"));
        List<Object> pg = peer == null ? List.of() : list(peer.get("gemm"));
        double peak1 = num(map(fma.get("one_thread_gflops")).get("best")), peakAll = allCoresPeak(fma);
        // Absent with --models-only.
        if (kiln.containsKey("gemm")) {
            line(md, "## GEMM (GFLOP/s, C = A·B fp32 row-major; checked against a float64 product before timing)");
            line(md, "");
            line(md, "| Shape | m×n×k | Kiln 1t | Kiln %dt | OpenBLAS 1t | OpenBLAS %dt | Kiln/OpenBLAS (best each) | Kiln %% of measured peak |", maxT, maxT);
            line(md, "|---|---|---:|---:|---:|---:|---:|---:|");
            Map<String, Double> k1 = gemmAt(kg, 1), kn = gemmAt(kg, maxT), o1 = gemmAt(pg, 1), on = gemmAt(pg, maxT);
            for (String label : gemmLabels(kg)) {
                double kb = max(k1.get(label), kn.get(label)), ob = max(o1.get(label), on.get(label));
                double kPeak = kn.get(label) != null && Double.isFinite(kn.get(label)) && kn.get(label) >= nz(k1.get(label)) ? kn.get(label) / peakAll
                        : nz(k1.get(label)) / peak1;
                line(md, "| %s | %s | %s | %s | %s | %s | %s | %.0f%% |", label, dims(kg, label), num(k1.get(label)), num(kn.get(label)),
                        num(o1.get(label)), num(on.get(label)), ratio(kb, ob), 100 * kPeak);
            }
            line(md, "");
            line(md, "Peak for %% of peak: 1 thread: the probe's measured one-thread FMA rate (%.1f GFLOP/s); %d threads: %.1f GFLOP/s, %s.",
                    peak1, maxT, peakAll, peakAll == num(fma.get("nominal_peak_gflops"))
                            ? "cores × measured clock × measured FLOP/cycle (the all-cores probe run, " + num(num(map(fma.get("all_cores_gflops")).get("best")))
                              + " GFLOP/s, was disturbed by other processes: under 1.5× the one-thread rate)"
                            : "the all-cores probe run");
            List<String> wrong = wrongShapes(kg);
            if (!wrong.isEmpty()) line(md, "%n**Kiln GEMM WRONG (not timed): %s**", wrong);
            line(md, "");
        }

        Map<String, Object> ks = kiln.containsKey("batch_sweep") ? map(kiln.get("batch_sweep")) : null;
        if (ks != null) {
            Map<String, Object> psw = peerSweep(peer);
            line(md, "## M1 throughput by batch size (samples/s; Kiln on %d thread(s), PyTorch in %s)", (int) num(ks.get("threads")),
                    psw == null ? "-" : psw.get("config"));
            line(md, "");
            line(md, "| Batch | Kiln train | PyTorch train | ratio | Kiln infer | PyTorch infer | ratio |");
            line(md, "|---:|---:|---:|---:|---:|---:|---:|");
            for (int b : sweepBatches(ks)) {
                double kt = sweepKiln(ks, "train_b" + b), ki = sweepKiln(ks, "infer_b" + b);
                double pt = sweepPeer(psw, "train", b), pi = sweepPeer(psw, "infer", b);
                line(md, "| %d | %s | %s | %s | %s | %s | %s |", b, num(kt), num(pt), ratio(kt, pt), num(ki), num(pi), ratio(ki, pi));
            }
            line(md, "");
        }

        if (kiln.containsKey("first_step")) {
            Map<String, Object> kf = map(kiln.get("first_step"));
            Map<String, Object> pf = peer == null || !peer.containsKey("first_step") ? null : map(peer.get("first_step"));
            line(md, "## M1: time to the end of the first training step, process start included (s; ratio < 1: Kiln sooner)");
            line(md, "");
            line(md, "| Side | Median | Range | Config | Breakdown (last run) |");
            line(md, "|---|---:|---|---|---|");
            line(md, "| Kiln (spawn → step done, timed by the parent) | %.2f | %.2f–%.2f | %d thread(s) | %s |", num(kf.get("median")), num(kf.get("min")),
                    num(kf.get("max")), (int) num(kf.get("threads")), breakdown(map(kf.get("breakdown_last"))));
            List<Object> since = list(kf.get("since_jvm_start_s"));
            line(md, "| Kiln (JVM start instant → step done, in the JVM; every run, reruns included) | %.2f | %.2f–%.2f | | "
                    + "start instant = boot time (/proc/stat btime, 1 s steps) + start ticks: ±1 s |", medianOf(since),
                    since.stream().mapToDouble(Bench::num).min().orElse(Double.NaN), since.stream().mapToDouble(Bench::num).max().orElse(Double.NaN));
            if (pf != null) {
                line(md, "| PyTorch (spawn → step done) | %.2f | %.2f–%.2f | %s | %s |", num(pf.get("median")), num(pf.get("min")), num(pf.get("max")),
                        pf.get("config"), breakdown(map(pf.get("breakdown_last"))));
                line(md, "");
                line(md, "Kiln/PyTorch time to first step: %s", ratio(num(kf.get("median")), num(pf.get("median"))));
            }
            line(md, "");
        }

        line(md, "## Reruns for a busy machine");
        line(md, "");
        int[] kr = kilnReruns(kiln);
        line(md, "- Kiln: %d timed runs rerun because other processes used the CPU; %d kept busy after the rerun limit (unresolved)", kr[0], kr[1]);
        if (peer != null) line(md, "- PyTorch peer: %d reruns; %d unresolved", (int) num(peer.get("total_reruns")), peerUnresolved(peer));
        if (dl4j != null) {
            int[] dr = kilnReruns(dl4j);
            line(md, "- Deeplearning4j peer: %d reruns; %d unresolved", dr[0], dr[1]);
        }
        line(md, "- A run is busy when other processes used more than 0.10 cores during it (from /proc/stat); "
                + "unresolved figures are noisy, read their range.");
        line(md, "");
        line(md, "JMH kernel benchmarks (GEMM, elementwise) are not part of this run: see bench/README.md.");
        return md.toString();
    }

    static String terminal(String md) { return md; }

    /**
     * The all-cores peak to compare with: the probe's all-cores run, unless other processes visibly cut it (under 1.5× the
     * one-thread rate on a multi-core machine); then cores × measured clock × measured FLOP/cycle, which needs one core only.
     */
    static double allCoresPeak(Map<String, Object> fma) {
        double one = num(map(fma.get("one_thread_gflops")).get("best")), all = num(map(fma.get("all_cores_gflops")).get("best"));
        return num(fma.get("cores")) > 1 && all < 1.5 * one ? num(fma.get("nominal_peak_gflops")) : all;
    }

    // ---- helpers

    static List<String> models(Map<String, Object> r) {
        List<String> out = new ArrayList<>();
        for (String m : List.of("M1", "M2", "M3", "M4")) {
            if (kilnBest(map(r.get("kiln")), m, "train").present() || (r.containsKey("peer") && peerBest(map(r.get("peer")), m, "train").present())) out.add(m);
        }
        return out;
    }

    private static int batchOf(Map<String, Object> kiln, String model, String fig) {
        for (Object perT : list(kiln.get("models"))) {
            for (Object o : list(map(perT).get("records"))) {
                Map<String, Object> rec = map(o);
                if (model.equals(rec.get("model")) && fig.equals(rec.get("figure"))) return (int) num(rec.get("batch"));
            }
        }
        return fig.startsWith("infer_b") ? Integer.parseInt(fig.substring(7)) : 0;
    }

    private static Map<String, Object> peerScaling(Map<String, Object> peer, String model, String fig) {
        if (peer == null) return null;
        for (Object o : list(peer.get("thread_scaling"))) {
            Map<String, Object> s = map(o);
            if (model.equals(s.get("model")) && fig.equals(s.get("figure"))) return s;
        }
        return null;
    }

    static Map<String, Object> peerSweep(Map<String, Object> peer) {
        if (peer == null) return null;
        for (Object o : list(peer.get("batch_sweep"))) if ("M1".equals(map(o).get("model"))) return map(o);
        return null;
    }

    static List<Integer> sweepBatches(Map<String, Object> ks) {
        List<Integer> out = new ArrayList<>();
        for (Object o : list(ks.get("records"))) {
            int b = (int) num(map(o).get("batch"));
            if (!out.contains(b)) out.add(b);
        }
        out.sort(null);
        return out;
    }

    static double sweepKiln(Map<String, Object> ks, String fig) {
        for (Object o : list(ks.get("records"))) if (fig.equals(map(o).get("figure"))) return num(map(o).get("median"));
        return Double.NaN;
    }

    static double sweepPeer(Map<String, Object> psw, String kind, int batch) {
        if (psw == null) return Double.NaN;
        for (Object o : list(psw.get("points"))) {
            Map<String, Object> p = map(o);
            if (kind.equals(p.get("kind")) && (int) num(p.get("batch")) == batch) return num(p.get("median"));
        }
        return Double.NaN;
    }

    private static String peerConfigs(Map<String, Object> peer) {
        Map<String, Object> settings = peer.containsKey("settings") ? map(peer.get("settings")) : Map.of();
        Object caps = settings.get("cpu_capabilities");
        if (settings.containsKey("search")) return "t (OpenMP) × b (OpenBLAS): " + settings.get("search") + (caps != null ? "; ATEN_CPU_CAPABILITY " + caps : "");
        return "t (OpenMP) × b (OpenBLAS) " + settings.get("thread_configs") + ", NCHW/channels_last for M3/M4"
                + (caps != null ? ", ATEN_CPU_CAPABILITY " + caps : "");
    }

    private static String dims(List<Object> perThreads, String label) {
        for (Object perT : perThreads) {
            for (Object o : list(map(perT).get("shapes"))) {
                Map<String, Object> s = map(o);
                if (label.equals(s.get("label"))) return (int) num(s.get("m")) + "×" + (int) num(s.get("n")) + "×" + (int) num(s.get("k"));
            }
        }
        return "?";
    }

    private static List<String> wrongShapes(List<Object> perThreads) {
        List<String> out = new ArrayList<>();
        for (Object perT : perThreads) {
            for (Object o : list(map(perT).get("shapes"))) {
                if (map(o).containsKey("wrong")) out.add(map(o).get("label") + " @" + (int) num(map(perT).get("threads")) + "t");
            }
        }
        return out;
    }

    private static int[] kilnReruns(Map<String, Object> kiln) {
        int reruns = 0, unresolved = 0;
        List<Object> recs = new ArrayList<>();
        for (Object perT : list(kiln.get("models"))) recs.addAll(list(map(perT).get("records")));
        for (Object perT : list(kiln.get("gemm"))) recs.addAll(list(map(perT).get("shapes")));
        if (kiln.containsKey("batch_sweep")) recs.addAll(list(map(kiln.get("batch_sweep")).get("records")));
        if (kiln.containsKey("first_step")) recs.add(kiln.get("first_step"));
        for (Object o : recs) {
            Map<String, Object> m = map(o);
            if (m.containsKey("reruns")) reruns += (int) num(m.get("reruns"));
            if (m.containsKey("busy_unresolved")) unresolved += (int) num(m.get("busy_unresolved"));
        }
        return new int[] {reruns, unresolved};
    }

    private static int peerUnresolved(Map<String, Object> peer) {
        int n = 0;
        for (Object o : list(peer.get("models"))) n += (int) num(map(o).get("busy_unresolved"));
        for (Object sw : list(peer.get("batch_sweep"))) for (Object p : list(map(sw).get("points"))) n += (int) num(map(p).get("busy_unresolved"));
        for (Object g : list(peer.get("gemm"))) for (Object s : list(map(g).get("shapes"))) n += (int) num(map(s).get("busy_unresolved"));
        if (peer.containsKey("first_step")) n += (int) num(map(peer.get("first_step")).get("busy_unresolved"));
        return n;
    }

    private static String breakdown(Map<String, Object> b) {
        if (b == null) return "";
        List<String> parts = new ArrayList<>();
        for (var e : b.entrySet()) parts.add(e.getKey() + " " + String.format(Locale.ROOT, "%.2f", num(e.getValue())));
        return String.join(", ", parts);
    }

    private static String phases(Map<String, Object> p) {
        List<String> parts = new ArrayList<>();
        for (var e : p.entrySet()) parts.add(e.getKey() + " " + String.format(Locale.ROOT, "%.0f", num(e.getValue())));
        return String.join(", ", parts);
    }

    private static double medianOf(List<Object> xs) {
        double[] v = xs.stream().mapToDouble(Bench::num).sorted().toArray();
        return v.length == 0 ? Double.NaN : Timed.median(v);
    }

    private static double max(Double a, Double b) {
        return Math.max(a == null || a.isNaN() ? Double.NaN : a, b == null || b.isNaN() ? Double.NaN : b) >= 0
                ? Math.max(nz(a), nz(b)) : Double.NaN;
    }

    private static double nz(Double d) { return d == null || d.isNaN() ? 0 : d; }

    private static String fmt(Best b) {
        if (!b.present()) return "-";
        return num(b.median()) + " [" + num(b.min()) + "–" + num(b.max()) + "]";
    }

    private static double num(Object o) { return Bench.num(o); }

    private static String num(Double v) { return num(v == null ? Double.NaN : v.doubleValue()); }

    private static String num(double v) {
        if (!Double.isFinite(v)) return "-";
        if (v >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (v >= 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String ratio(double a, double b) {
        return Double.isFinite(a) && Double.isFinite(b) && b > 0 ? String.format(Locale.ROOT, "%.2f×", a / b) : "-";
    }

    private static void line(StringBuilder sb, String fmt, Object... args) {
        sb.append(String.format(Locale.ROOT, fmt, args)).append('\n');
    }
}
