package dev.kiln.bench;

import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.kiln.bench.Bench.list;
import static dev.kiln.bench.Bench.map;

/**
 * The chart of a {@code ./kiln bench} run (XChart, PNG), drawn from the same result map as {@link BenchReport}'s
 * Markdown.
 */
final class BenchChart {
    private BenchChart() {}

    /** The PNG beside the report: model ratios, GEMM GFLOP/s by size against OpenBLAS and the peak, the M1 batch sweep. */
    static void chart(Map<String, Object> r, Path png) throws IOException {
        Map<String, Object> kiln = map(r.get("kiln")), fma = map(r.get("fma_peak"));
        Map<String, Object> peer = r.containsKey("peer") ? map(r.get("peer")) : null;
        int w = 800, h = 520;
        List<Chart<?, ?>> charts = new ArrayList<>();

        CategoryChart ratio = new CategoryChartBuilder().width(w).height(h)
                .title(peer != null ? "Kiln / PyTorch, samples/s (best config each)" : "Kiln samples/s").yAxisTitle(peer != null ? "ratio" : "samples/s").build();
        List<String> cats = new ArrayList<>();
        List<Double> vals = new ArrayList<>();
        for (String model : BenchReport.models(r)) {
            for (String fig : List.of("train", "infer_b1", "infer_b256")) {
                double k = BenchReport.kilnBest(kiln, model, fig).median(), p = BenchReport.peerBest(peer, model, fig).median();
                double v = peer != null ? k / p : k;
                if (Double.isFinite(v) && v > 0) { cats.add(model + " " + fig); vals.add(v); }
            }
        }
        if (!cats.isEmpty()) ratio.addSeries(peer != null ? "Kiln/PyTorch" : "Kiln", cats, vals);
        ratio.getStyler().setXAxisLabelRotation(45);
        ratio.getStyler().setLegendVisible(false);
        charts.add(ratio);

        XYChart gemm = new XYChartBuilder().width(w).height(h).title("Square GEMM n×n×n").xAxisTitle("n").yAxisTitle("GFLOP/s").build();
        List<Object> kg = list(kiln.get("gemm"));
        List<Object> pg = peer == null ? List.of() : list(peer.get("gemm"));
        for (Object perT : kg) addSquares(gemm, "Kiln " + (int) num(map(perT).get("threads")) + "t", perT);
        for (Object perT : pg) addSquares(gemm, "OpenBLAS " + (int) num(map(perT).get("threads")) + "t", perT);
        double peakAll = BenchReport.allCoresPeak(fma);
        gemm.addSeries("peak, all cores", new double[] {256, 2048}, new double[] {peakAll, peakAll});
        gemm.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        charts.add(gemm);

        XYChart sweep = new XYChartBuilder().width(w).height(h).title("M1 samples/s by batch size").xAxisTitle("batch").yAxisTitle("samples/s").build();
        sweep.getStyler().setXAxisLogarithmic(true);
        sweep.getStyler().setYAxisLogarithmic(true);
        sweep.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        if (kiln.containsKey("batch_sweep")) {
            Map<String, Object> ks = map(kiln.get("batch_sweep"));
            Map<String, Object> psw = BenchReport.peerSweep(peer);
            for (String kind : List.of("train", "infer")) {
                List<Double> xs = new ArrayList<>(), ys = new ArrayList<>(), px = new ArrayList<>(), py = new ArrayList<>();
                for (int b : BenchReport.sweepBatches(ks)) {
                    double k = BenchReport.sweepKiln(ks, kind + "_b" + b), p = BenchReport.sweepPeer(psw, kind, b);
                    if (k > 0) { xs.add((double) b); ys.add(k); }
                    if (p > 0) { px.add((double) b); py.add(p); }
                }
                if (!xs.isEmpty()) sweep.addSeries("Kiln " + kind, xs, ys);
                if (!px.isEmpty()) sweep.addSeries("PyTorch " + kind, px, py);
            }
        }
        charts.add(sweep);

        int maxT = (int) num(list(kiln.get("threads_tried")).getLast());
        CategoryChart shapes = new CategoryChartBuilder().width(w).height(h).title("Model GEMM shapes, " + maxT + " threads").yAxisTitle("GFLOP/s").build();
        Map<String, Double> kn = BenchReport.gemmAt(kg, maxT), on = BenchReport.gemmAt(pg, maxT);
        List<String> sc = new ArrayList<>();
        List<Double> kv = new ArrayList<>(), ov = new ArrayList<>();
        for (String label : kn.keySet()) {
            if (label.startsWith("square") || !Double.isFinite(kn.get(label))) continue;
            if (peer != null && (on.get(label) == null || !Double.isFinite(on.get(label)))) continue;
            sc.add(label);
            kv.add(kn.get(label));
            if (peer != null) ov.add(on.get(label));
        }
        if (!sc.isEmpty()) {
            shapes.addSeries("Kiln", sc, kv);
            if (peer != null) shapes.addSeries("OpenBLAS", sc, ov);
        }
        shapes.getStyler().setXAxisLabelRotation(60);
        charts.add(shapes);

        BufferedImage img = new BufferedImage(2 * w, 2 * h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 2 * w, 2 * h);
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        for (int i = 0; i < charts.size(); i++) {
            Graphics2D gi = (Graphics2D) g.create((i % 2) * w, (i / 2) * h, w, h);
            try {
                charts.get(i).paint(gi, w, h);
            } catch (RuntimeException e) {
                // An empty panel (no data of that kind in this run) must not cost the whole report.
                gi.setColor(Color.BLACK);
                gi.drawString("no data: " + e.getMessage(), 20, 40);
            }
            gi.dispose();
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static void addSquares(XYChart chart, String name, Object perT) {
        List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
        for (Object o : list(map(perT).get("shapes"))) {
            Map<String, Object> s = map(o);
            if (((String) s.get("label")).startsWith("square") && Double.isFinite(num(s.get("median")))) {
                xs.add(num(s.get("n")));
                ys.add(num(s.get("median")));
            }
        }
        if (!xs.isEmpty()) chart.addSeries(name, xs, ys);
    }

    private static double num(Object o) { return Bench.num(o); }
}
