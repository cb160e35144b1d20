package dev.kiln.train;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every curve of a {@code fit}: one value per epoch for the loss, each metric, and their
 * validation twins ("val_loss"). {@link #plot} draws the learning curves, {@link #toCsv} writes them.
 */
public final class History {
    private final Map<String, List<Double>> curves = new LinkedHashMap<>();
    private int epochs;

    void append(Map<String, Double> logs) {
        for (Map.Entry<String, Double> e : logs.entrySet()) {
            List<Double> c = curves.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
            while (c.size() < epochs) c.add(Double.NaN);
            c.add(e.getValue());
        }
        epochs++;
    }

    public int epochs() { return epochs; }

    public List<String> keys() { return List.copyOf(curves.keySet()); }

    /** The curve named {@code key}, or an error listing the names. */
    public List<Double> get(String key) {
        List<Double> c = curves.get(key);
        if (c == null) throw new IllegalArgumentException("no curve '" + key + "' in this history; curves: " + keys());
        return List.copyOf(c);
    }

    public boolean has(String key) { return curves.containsKey(key); }

    /** The last value of {@code key}. */
    public double last(String key) { List<Double> c = get(key); return c.get(c.size() - 1); }

    /**
     * Writes a PNG with one panel per quantity (loss, then each metric), training and validation
     * curves per epoch. The file is written to a temporary file and moved into place.
     */
    public void plot(Path png) {
        List<String> bases = new ArrayList<>();
        for (String k : curves.keySet()) if (!k.startsWith("val_") && !k.equals("lr")) bases.add(k);
        int panelW = 520, panelH = 380;
        java.awt.image.BufferedImage sheet = new java.awt.image.BufferedImage(panelW * Math.max(1, bases.size()), panelH, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = sheet.createGraphics();
        try {
            for (int i = 0; i < bases.size(); i++) {
                XYChart chart = chart(bases.get(i), panelW, panelH);
                java.awt.Graphics2D panel = (java.awt.Graphics2D) g.create(i * panelW, 0, panelW, panelH);
                chart.paint(panel, panelW, panelH);
                panel.dispose();
            }
        } finally {
            g.dispose();
        }
        writeAtomically(png, tmp -> javax.imageio.ImageIO.write(sheet, "png", tmp.toFile()));
    }

    private XYChart chart(String base, int w, int h) {
        XYChart chart = new XYChartBuilder().width(w).height(h).title(base).xAxisTitle("epoch").yAxisTitle(base).build();
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS); // never over a curve
        addSeries(chart, "train", curves.get(base));
        if (curves.containsKey("val_" + base)) addSeries(chart, "validation", curves.get("val_" + base));
        return chart;
    }

    private static void addSeries(XYChart chart, String name, List<Double> ys) {
        double[] x = new double[ys.size()], y = new double[ys.size()];
        for (int i = 0; i < ys.size(); i++) { x[i] = i + 1; y[i] = ys.get(i); }
        chart.addSeries(name, x, y).setMarker(ys.size() > 40 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
    }

    /** One row per epoch: epoch, then every curve. */
    public void toCsv(Path csv) {
        StringBuilder sb = new StringBuilder("epoch");
        for (String k : curves.keySet()) sb.append(',').append(k);
        sb.append('\n');
        for (int e = 0; e < epochs; e++) {
            sb.append(e + 1);
            for (List<Double> c : curves.values()) sb.append(',').append(e < c.size() ? String.format(Locale.ROOT, "%.8g", c.get(e)) : "");
            sb.append('\n');
        }
        writeAtomically(csv, tmp -> Files.writeString(tmp, sb.toString()));
    }

    interface Writer { void write(Path tmp) throws IOException; }

    static void writeAtomically(Path target, Writer w) {
        try {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, target.getFileName().toString(), ".tmp");
            try {
                w.write(tmp);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + target + ": " + e.getMessage(), e);
        }
    }

    @Override public String toString() { return "History(" + epochs + " epochs, " + keys() + ")"; }
}
