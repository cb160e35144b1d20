package dev.kiln.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.kiln.bench.Bench.list;
import static dev.kiln.bench.Bench.map;

/**
 * The report's warm-up section: for each side's winning configuration, how its warm-up under the one rule
 * ({@link Timed.Rule}) ended and the per-step times through it, so a reader can see both sides were warm; and the
 * count of warm-ups that hit the cap over every record of the run.
 */
final class WarmUpReport {
    private WarmUpReport() {}

    /**
     * For the winning configuration of each side, per model figure: how its warm-up ended, a log-scale sparkline of
     * its trace with the first and last values, the timed pace and the shortest timed run; then the warm-ups that hit
     * the cap, over every record of the run. Empty for results written before the warm-up rule (no {@code warmup}).
     */
    static String section(Map<String, Object> r) {
        Map<String, Object> kiln = map(r.get("kiln"));
        Map<String, Object> peer = r.containsKey("peer") ? map(r.get("peer")) : null;
        Map<String, Object> dl4j = r.containsKey("dl4j") ? map(r.get("dl4j")) : null;
        StringBuilder rows = new StringBuilder();
        for (String model : BenchReport.models(r)) {
            for (String fig : List.of("train", "infer_b1", "infer_b256")) {
                BenchReport.Best k = BenchReport.kilnBest(kiln, model, fig);
                warmUpRow(rows, model, fig, "Kiln", k.config(), BenchReport.kilnBestRecord(kiln, model, fig));
                Map<String, Object> p = BenchReport.peerBestRecord(peer, model, fig);
                warmUpRow(rows, model, fig, "PyTorch", p == null ? "-" : String.valueOf(p.get("config")), p);
                if (dl4j != null) warmUpRow(rows, model, fig, "DL4J", BenchReport.dl4jBest(dl4j, model, fig).config(), BenchReport.dl4jBestRecord(dl4j, model, fig));
            }
        }
        if (rows.isEmpty()) return "";
        StringBuilder md = new StringBuilder();
        line(md, "## Warm-up of each side's winning configuration (ms per step)");
        line(md, "");
        line(md, "| Model | Figure | Side | Config | Warm-up | ms/step through warm-up | Timed ms/step | Shortest timed run |");
        line(md, "|---|---|---|---|---|---|---:|---|");
        md.append(rows);
        line(md, "");
        line(md, "Trace: a sparkline of every trace point on a log scale (▁ fastest, █ slowest of that warm-up), then the first %d "
                + "points (one sample each: the cold steps) and the last %d. A sample is one step, or as many steps as fill the rule's "
                + "sample time; the JSON keeps every point as [steps so far, seconds so far, ms per step].", TRACE_FIRST, TRACE_LAST);
        line(md, "");
        line(md, "%s", capHits(r));
        line(md, "");
        return md.toString();
    }

    static final int TRACE_FIRST = 4, TRACE_LAST = 3;

    private static void warmUpRow(StringBuilder md, String model, String fig, String side, String config, Map<String, Object> rec) {
        if (rec == null || !rec.containsKey("warmup")) return;
        Map<String, Object> w = map(rec.get("warmup"));
        List<Double> ms = new ArrayList<>();
        for (Object p : list(w.get("trace"))) ms.add(num(list(p).get(2)));
        String ended = Boolean.TRUE.equals(w.get("cap_hit"))
                ? String.format(Locale.ROOT, "**CAP HIT** at %.1f s, %d steps: %s", num(w.get("seconds")), (long) num(w.get("steps")),
                        String.join("; ", list(w.get("unmet")).stream().map(String::valueOf).toList()))
                : String.format(Locale.ROOT, "rule met: %.1f s, %d steps", num(w.get("seconds")), (long) num(w.get("steps")));
        double batch = num(rec.get("batch")), median = num(rec.get("median"));
        String run = rec.containsKey("run_s_min")
                ? String.format(Locale.ROOT, "%.2f s", num(rec.get("run_s_min"))) + (rec.containsKey("steps_per_run_min")
                        ? String.format(Locale.ROOT, ", %d steps", (long) num(rec.get("steps_per_run_min"))) : "")
                : "-";
        line(md, "| %s | %s | %s | %s | %s | %s | %s | %s |", model, fig, side, config, ended, trace(ms), msText(1e3 * batch / median), run);
    }

    /** A trace as a log-scale sparkline and its first and last values, e.g. {@code █▃▂▁▁ 41.2 · 3.10 · … · 2.41}. */
    static String trace(List<Double> ms) {
        if (ms.isEmpty()) return "-";
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (double v : ms) {
            if (v > 0) { lo = Math.min(lo, Math.log(v)); hi = Math.max(hi, Math.log(v)); }
        }
        String bars = "▁▂▃▄▅▆▇█";
        StringBuilder spark = new StringBuilder("`");
        for (double v : ms) {
            int level = v > 0 && hi > lo ? (int) Math.round((Math.log(v) - lo) / (hi - lo) * (bars.length() - 1)) : 0;
            spark.append(bars.charAt(level));
        }
        spark.append("` ");
        List<String> values = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            if (i == TRACE_FIRST && ms.size() > TRACE_FIRST + TRACE_LAST) {
                values.add("…");
                i = ms.size() - TRACE_LAST;
            }
            values.add(msText(ms.get(i)));
        }
        return spark + String.join(" · ", values);
    }

    /** Milliseconds to three significant figures, plainly written (0.0180, 2.41, 41.2, 1925). */
    static String msText(double v) {
        if (!Double.isFinite(v)) return "-";
        if (v >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (v <= 0) return "0";
        return String.format(Locale.ROOT, "%." + Math.max(0, 2 - (int) Math.floor(Math.log10(v))) + "f", v);
    }

    /** One line: how many warm-ups of each side hit the cap, over every record of the run (all configurations, GEMM, sweeps), and which. */
    static String capHits(Map<String, Object> r) {
        Map<String, Object> kiln = map(r.get("kiln"));
        List<String> parts = new ArrayList<>();
        parts.add(capHits("Kiln", kilnWarmUps(kiln)));
        if (r.containsKey("peer")) parts.add(capHits("PyTorch", peerWarmUps(map(r.get("peer")))));
        if (r.containsKey("dl4j")) parts.add(capHits("DL4J", kilnWarmUps(map(r.get("dl4j")))));
        return "Warm-ups that hit the cap (every figure of every configuration tried, GEMM and sweeps included): " + String.join("; ", parts) + ".";
    }

    private static String capHits(String side, Map<String, Map<String, Object>> warmUps) {
        List<String> hits = new ArrayList<>();
        for (var e : warmUps.entrySet()) if (Boolean.TRUE.equals(e.getValue().get("cap_hit"))) hits.add(e.getKey());
        return side + " " + hits.size() + " of " + warmUps.size() + (hits.isEmpty() ? "" : " (" + String.join(", ", hits) + ")");
    }

    // label → warm-up, for every record of Kiln's (or DL4J's, the same shape) results
    private static Map<String, Map<String, Object>> kilnWarmUps(Map<String, Object> side) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (Object perT : list(side.get("models"))) {
            int t = (int) num(map(perT).get("threads"));
            for (Object o : list(map(perT).get("records"))) addWarmUp(out, map(o).get("model") + " " + map(o).get("figure") + " @" + t + "t", map(o));
        }
        for (Object perT : list(side.get("gemm"))) {
            int t = (int) num(map(perT).get("threads"));
            for (Object o : list(map(perT).get("shapes"))) addWarmUp(out, "GEMM " + map(o).get("label") + " @" + t + "t", map(o));
        }
        if (side.containsKey("batch_sweep")) {
            for (Object o : list(map(side.get("batch_sweep")).get("records"))) addWarmUp(out, "M1 sweep " + map(o).get("figure"), map(o));
        }
        return out;
    }

    private static Map<String, Map<String, Object>> peerWarmUps(Map<String, Object> peer) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (Object o : list(peer.get("models"))) {
            for (Object c : list(map(o).get("configs"))) addWarmUp(out, map(o).get("model") + " " + map(o).get("figure") + " " + map(c).get("config"), map(c));
        }
        for (Object g : list(peer.get("gemm"))) {
            int t = (int) num(map(g).get("threads"));
            for (Object o : list(map(g).get("shapes"))) addWarmUp(out, "GEMM " + map(o).get("label") + " @" + t + "t", map(o));
        }
        for (Object sw : list(peer.get("batch_sweep"))) {
            for (Object p : list(map(sw).get("points"))) addWarmUp(out, map(sw).get("model") + " sweep " + map(p).get("kind") + "_b" + (int) num(map(p).get("batch")), map(p));
        }
        return out;
    }

    private static void addWarmUp(Map<String, Map<String, Object>> out, String label, Map<String, Object> rec) {
        if (rec.containsKey("warmup")) out.put(label, map(rec.get("warmup")));
    }

    private static double num(Object o) { return Bench.num(o); }

    private static void line(StringBuilder sb, String fmt, Object... args) {
        sb.append(String.format(Locale.ROOT, fmt, args)).append('\n');
    }
}
