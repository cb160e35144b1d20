package dev.kiln.bench;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's training-memory section on hand-made Kiln results (with and without ModelBench's memory fields). */
class MemoryReportTest {

    @Test
    void sectionShowsTheBestThreadCountsFiguresAndPeakOverBudget() {
        Map<String, Object> m4at1 = rec("M4", 100);
        m4at1.put("peak_heap_bytes", 999_000_000L);          // the slower run's figures must not appear
        Map<String, Object> m4at2 = rec("M4", 200);
        m4at2.put("peak_heap_bytes", 150_000_000L);
        m4at2.put("live_heap_bytes", 90_000_000L);
        m4at2.put("variable_bytes", 20_000_000L);
        m4at2.put("arena_bytes", 45_000_000L);
        m4at2.put("workspace_bytes", 5_000_000L);
        m4at2.put("budget_bytes", 140_000_000L);
        String md = BenchReport.memorySection(kiln(List.of(m4at1), List.of(m4at2)), List.of("M4"));
        assertTrue(md.contains("## Memory in training"), md);
        // 150 MB peak over a 2 × (20 + 45 + 5) = 140 MB budget: 1.07×
        assertTrue(md.contains("| M4 | 150 | 90.0 | 20.0 | 45.0 | 5.00 | 140 | 1.07× |"), md);
        assertTrue(md.contains("Zero allocation per step is checked by the test suite"), md);
        assertFalse(md.contains("999"), md);
    }

    @Test
    void missingFieldsReadAsDashesAndOlderResultsHaveNoSection() {
        Map<String, Object> partial = rec("M3", 300);
        partial.put("peak_heap_bytes", 50_000_000L);          // a record with only some fields
        String md = BenchReport.memorySection(kiln(List.of(partial), List.of()), List.of("M3"));
        assertTrue(md.contains("| M3 | 50.0 | - | - | - | - | - | - |"), md);

        // results written before the memory fields existed (and no results at all): no section, no exception
        assertEquals("", BenchReport.memorySection(kiln(List.of(rec("M3", 300)), List.of()), List.of("M3", "M4")));
        assertEquals("", BenchReport.memorySection(new LinkedHashMap<>(), List.of("M1")));
    }

    private static Map<String, Object> rec(String model, double median) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("figure", "train");
        m.put("batch", 64);
        m.put("median", median);
        m.put("min", median - 10);
        m.put("max", median + 10);
        return m;
    }

    private static Map<String, Object> kiln(List<Object> oneThread, List<Object> twoThreads) {
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("threads_tried", List.of(1, 2));
        k.put("models", List.of(Map.of("threads", 1, "records", oneThread), Map.of("threads", 2, "records", twoThreads)));
        return k;
    }
}
