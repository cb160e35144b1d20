package dev.kiln.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's warm-up parts, on hand-made result maps: the rule, each side's winning trace, and cap hits named. */
class WarmUpReportTest {

    @Test
    void theReportShowsEachSidesWinningWarmUpAndTheRule() {
        String md = BenchReport.markdown(result());
        assertTrue(md.contains("- Timing rule, the same on every side (constants passed to the peer): " + Timed.Rule.STANDARD.words()), md);
        assertTrue(md.contains("## Warm-up of each side's winning configuration (ms per step)"), md);
        // Kiln's winner is its 2-thread run (3000 samples/s): 256 / 3000 s = 85.3 ms a step; its trace 400 → 90 → 86 ms
        assertTrue(md.contains("| M1 | train | Kiln | 2 threads | rule met: 3.2 s, 40 steps | `█▁▁` 400 · 90.0 · 86.0 | 85.3 | 1.02 s, 12 steps |"), md);
        // the peer's best configuration hit the cap: flagged, with what was missing
        assertTrue(md.contains("| M1 | train | PyTorch | t1 b2 | **CAP HIT** at 30.0 s, 300 steps: step time not stable (110 ms vs 95 ms before) | "
                + "`█▁▁▁▁▁▁▁▁` 900 · 100 · 110 · 105 · … · 110 · 108 · 109 | 128 | 1.10 s, 10 steps |"), md);
        assertTrue(md.contains("Warm-ups that hit the cap (every figure of every configuration tried, GEMM and sweeps included): "
                + "Kiln 0 of 2; PyTorch 1 of 2 (M1 train t1 b2)."), md);
        assertTrue(md.contains("it leaves out M4:infer_b256 on both sides (full run only)"), md);
    }

    @Test
    void resultsWrittenBeforeTheRuleRenderWithoutTheSection() {
        Map<String, Object> r = result();
        r.remove("rule");
        strip(r);
        String md = BenchReport.markdown(r);
        assertFalse(md.contains("## Warm-up of each side"), md);
        assertTrue(md.contains("- Every figure: warm-up, then the median of ≥ 3 timed runs"), md);
    }

    @Test
    void traceTextIsALogSparklineWithTheFirstAndLastValues() {
        assertEquals("`█▄▁` 1000 · 30.0 · 1.00", WarmUpReport.trace(List.of(1000.0, 30.0, 1.0)));
        assertEquals("`▁▁` 2.00 · 2.00", WarmUpReport.trace(List.of(2.0, 2.0)));
        assertEquals("0.0180", WarmUpReport.msText(0.01796));
        assertEquals("1925", WarmUpReport.msText(1925.0));
    }

    // ---- hand-made results

    private static Map<String, Object> warmUp(boolean capHit, double seconds, long steps, List<Double> ms) {
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("ended_by", capHit ? "cap" : "rule");
        w.put("cap_hit", capHit);
        if (capHit) w.put("unmet", List.of("step time not stable (110 ms vs 95 ms before)"));
        w.put("steps", steps);
        w.put("seconds", seconds);
        List<Object> trace = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) trace.add(List.of(i + 1, 0.1 * (i + 1), ms.get(i)));
        w.put("trace", trace);
        return w;
    }

    private static Map<String, Object> kilnRec(double median, Map<String, Object> warmUp) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", "M1");
        m.put("figure", "train");
        m.put("batch", 256);
        m.put("median", median);
        m.put("min", median - 100);
        m.put("max", median + 100);
        m.put("reruns", 0);
        m.put("busy_unresolved", 0);
        m.put("steps_per_run_min", 12);
        m.put("run_s_min", 1.02);
        m.put("warmup", warmUp);
        return m;
    }

    private static Map<String, Object> result() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", "t");
        r.put("quick", true);
        r.put("machine", new LinkedHashMap<>(Map.of("hostname", "h", "cpu_model", "cpu", "logical_cpus", 2, "os", "Linux", "jdk", "25",
                "vector_bits", 512)));
        r.put("rule", Bench.rule());
        r.put("phase_s", new LinkedHashMap<>(Map.of("kiln_models", 1.0)));
        r.put("fma_peak", new LinkedHashMap<>(Map.of("one_thread_gflops", Map.of("best", 100.0), "all_cores_gflops", Map.of("best", 200.0),
                "cores", 2, "clock_ghz_estimate", Map.of("best", 3.0), "flops_per_cycle_per_core", 32.0, "nominal_peak_gflops", 192.0)));
        Map<String, Object> kiln = new LinkedHashMap<>();
        kiln.put("threads_tried", List.of(1, 2));
        kiln.put("models", List.of(
                new LinkedHashMap<>(Map.of("threads", 1, "records", List.of(kilnRec(2000, warmUp(false, 2.0, 30, List.of(500.0, 130.0, 128.0)))))),
                new LinkedHashMap<>(Map.of("threads", 2, "records", List.of(kilnRec(3000, warmUp(false, 3.2, 40, List.of(400.0, 90.0, 86.0))))))));
        r.put("kiln", kiln);
        Map<String, Object> win = new LinkedHashMap<>(Map.of("config", "t1 b2", "median", 2000.0, "min", 1900.0, "max", 2100.0, "run_s_min", 1.1,
                "steps_per_run_min", 10));
        win.put("warmup", warmUp(true, 30.0, 300, List.of(900.0, 100.0, 110.0, 105.0, 100.0, 106.0, 110.0, 108.0, 109.0)));
        Map<String, Object> lose = new LinkedHashMap<>(Map.of("config", "t2 b1", "median", 1500.0, "min", 1400.0, "max", 1600.0, "reruns", 0,
                "busy_unresolved", 0));
        lose.put("warmup", warmUp(false, 2.0, 20, List.of(300.0, 170.0)));
        Map<String, Object> winConfig = new LinkedHashMap<>(win);
        winConfig.put("reruns", 0);
        winConfig.put("busy_unresolved", 0);
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("model", "M1");
        rec.put("figure", "train");
        rec.put("batch", 256);
        rec.put("configs", List.of(winConfig, lose));
        rec.put("best", win);
        rec.put("reruns", 0);
        rec.put("busy_unresolved", 0);
        Map<String, Object> peer = new LinkedHashMap<>();
        peer.put("peer", Map.of("torch", "1.13", "capability", "[AVX2]", "numpy", "1.24", "openblas", Map.of("version", "0.3.21", "corename", "Zen")));
        peer.put("settings", Map.of("thread_configs", List.of(List.of(2, 1), List.of(1, 2))));
        peer.put("models", List.of(rec));
        peer.put("total_reruns", 0);
        r.put("peer", peer);
        r.put("wall_s", 1.0);
        return r;
    }

    // a result as written before the rule: no warm-up anywhere
    @SuppressWarnings("unchecked")
    private static void strip(Object o) {
        if (o instanceof Map<?, ?> m) {
            if (m.containsKey("warmup")) ((Map<String, Object>) m).remove("warmup");
            for (Object v : m.values()) strip(v);
        } else if (o instanceof List<?> l) {
            for (Object v : l) strip(v);
        }
    }
}
