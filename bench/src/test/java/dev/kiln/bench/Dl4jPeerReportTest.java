package dev.kiln.bench;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The --peers parsing and the report's Deeplearning4j parts, on hand-made result maps (no DL4J needed). */
class Dl4jPeerReportTest {

    private static Map<String, String> args(String... a) { return Args.parse(a); }

    @Test
    void peersDefaultToTorchAndReadCommaLists() {
        assertEquals(Set.of("torch"), Bench.peers(args()));
        assertEquals(List.of("torch", "dl4j"), List.copyOf(Bench.peers(args("--peers", "torch,dl4j"))));
        assertEquals(List.of("torch", "dl4j"), List.copyOf(Bench.peers(args("--peers", "DL4J"))));
        assertEquals(Set.of(), Bench.peers(args("--peers", "none")));
    }

    @Test
    void noPeerWinsAndAMissingTorchDropsOnlyTorch() {
        assertEquals(Set.of(), Bench.peers(args("--peers", "torch,dl4j", "--no-peer")));
        assertEquals(Set.of("dl4j"), Bench.peers(args("--peers", "torch,dl4j", "--torch-unavailable")));
        assertThrows(IllegalArgumentException.class, () -> Bench.peers(args("--peers", "tensorflow")));
    }

    @Test
    void dl4jBestPicksTheFastestThreadCountPerFigure() {
        Map<String, Object> dl4j = dl4j();
        BenchReport.Best train = BenchReport.dl4jBest(dl4j, "M1", "train");
        assertEquals(1500, train.median(), 1e-9);
        assertEquals("OMP_NUM_THREADS=2", train.config());
        BenchReport.Best infer = BenchReport.dl4jBest(dl4j, "M1", "infer_b1");
        assertEquals(800, infer.median(), 1e-9);
        assertEquals("OMP_NUM_THREADS=1", infer.config());
        assertFalse(BenchReport.dl4jBest(dl4j, "M4", "train").present());
        assertFalse(BenchReport.dl4jBest(null, "M1", "train").present());
    }

    @Test
    void markdownWithDl4jShowsItsFiguresRatiosAndBackend() {
        Map<String, Object> r = result();
        r.put("dl4j", dl4j());
        String md = BenchReport.markdown(r);
        assertTrue(md.contains("## Java peer: Deeplearning4j on M1–M3"), md);
        // Kiln 3000 vs DL4J's best 1500 (2 threads): 2.00×; batch 1: Kiln 2000 vs 800 (1 thread): 2.50×.
        assertTrue(md.contains("| M1 | train | 256 | 3000 [2900–3100] | 2 threads | 1500 [1400–1600] | OMP_NUM_THREADS=2 | 2.00× |"), md);
        assertTrue(md.contains("| M1 | infer_b1 | 1 | 2000 [1900–2100] | 2 threads | 800 [700–900] | OMP_NUM_THREADS=1 | 2.50× |"), md);
        assertTrue(md.contains("natives nd4j-native-1.0.0-M2.1-linux-x86_64-avx512.jar"), md);
        assertTrue(md.contains("- Deeplearning4j peer: 3 reruns; 1 unresolved"), md);
        assertFalse(md.contains("Java peer not run"), md);
        assertFalse(md.contains("## GEMM"), "no GEMM section without GEMM figures (--models-only)");
    }

    @Test
    void markdownWithoutDl4jSaysItWasNotRunAndHasNoDl4jTable() {
        String md = BenchReport.markdown(result());
        assertTrue(md.contains("- Java peer not run: Deeplearning4j"), md);
        assertFalse(md.contains("Kiln/DL4J"), md);
        assertFalse(md.contains("Deeplearning4j peer:"), md);
    }

    // ---- hand-made results

    private static Map<String, Object> rec(String model, String figure, int batch, double median, int reruns, int unresolved) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("figure", figure);
        m.put("batch", batch);
        m.put("median", median);
        m.put("min", median - 100);
        m.put("max", median + 100);
        m.put("reruns", reruns);
        m.put("busy_unresolved", unresolved);
        return m;
    }

    private static Map<String, Object> perThreads(int threads, List<Object> records) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("threads", threads);
        m.put("records", records);
        return m;
    }

    private static Map<String, Object> dl4j() {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("dl4j", "1.0.0-M2.1");
        facts.put("nd4j", "1.0.0-M2.1");
        facts.put("nd4j_natives_jar", "nd4j-native-1.0.0-M2.1-linux-x86_64-avx512.jar");
        facts.put("platform_extension", "-avx512");
        facts.put("nd4j_environment", Map.of("blas.vendor", "OPENBLAS"));
        facts.put("jdk", "Eclipse Adoptium 25");
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("threads_tried", List.of(1, 2));
        d.put("facts", facts);
        d.put("models", List.of(
                perThreads(1, List.of(rec("M1", "train", 256, 1000, 1, 0), rec("M1", "infer_b1", 1, 800, 0, 0))),
                perThreads(2, List.of(rec("M1", "train", 256, 1500, 2, 1), rec("M1", "infer_b1", 1, 600, 0, 0)))));
        return d;
    }

    private static Map<String, Object> result() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", "t");
        r.put("quick", true);
        r.put("machine", new LinkedHashMap<>(Map.of("hostname", "h", "cpu_model", "cpu", "logical_cpus", 2, "os", "Linux", "jdk", "25",
                "vector_bits", 512)));
        r.put("phase_s", new LinkedHashMap<>(Map.of("kiln_models", 1.0)));
        r.put("fma_peak", new LinkedHashMap<>(Map.of("one_thread_gflops", Map.of("best", 100.0), "all_cores_gflops", Map.of("best", 200.0),
                "cores", 2, "clock_ghz_estimate", Map.of("best", 3.0), "flops_per_cycle_per_core", 32.0, "nominal_peak_gflops", 192.0)));
        Map<String, Object> kiln = new LinkedHashMap<>();
        kiln.put("threads_tried", List.of(1, 2));
        kiln.put("models", List.of(perThreads(2, List.of(rec("M1", "train", 256, 3000, 0, 0), rec("M1", "infer_b1", 1, 2000, 0, 0)))));
        r.put("kiln", kiln);
        r.put("peer_note", "PyTorch peer not run");
        r.put("wall_s", 1.0);
        return r;
    }
}
