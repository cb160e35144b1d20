package dev.kiln.examples;

import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** The examples' own figures (XChart panels on one sheet), for what {@code History.plot} does not draw. */
final class Plots {
    private Plots() {}

    /** An empty chart with white background and the legend inside. */
    static XYChart chart(String title, String xTitle, String yTitle, int width, int height) {
        XYChart c = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setXAxisTickMarkSpacingHint(90);
        return c;
    }

    static XYSeries line(XYChart c, String name, double[] x, double[] y) {
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.NONE);
        return s;
    }

    static XYSeries points(XYChart c, String name, double[] x, double[] y) {
        XYSeries s = c.addSeries(name, x, y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarkerColor(new Color(70, 110, 200, 120));
        return s;
    }

    /** 1, 2, ... n as doubles (x values of a curve). */
    static double[] counting(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = i + 1;
        return x;
    }

    static double[] toArray(List<Double> values) {
        double[] a = new double[values.size()];
        for (int i = 0; i < a.length; i++) a[i] = values.get(i);
        return a;
    }

    /** Paints {@code charts} row by row, {@code columns} per row, each cell w × h, into one PNG (written atomically). */
    static void sheet(Path png, List<XYChart> charts, int columns, int w, int h) {
        int rows = (charts.size() + columns - 1) / columns;
        BufferedImage img = new BufferedImage(w * Math.min(columns, charts.size()), h * rows, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            for (int i = 0; i < charts.size(); i++) {
                Graphics2D cell = (Graphics2D) g.create((i % columns) * w, (i / columns) * h, w, h);
                charts.get(i).paint(cell, w, h);
                cell.dispose();
            }
        } finally {
            g.dispose();
        }
        write(png, img);
    }

    static void write(Path png, BufferedImage img) {
        try {
            Path dir = png.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, png.getFileName().toString(), ".tmp");
            try {
                if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer in this JDK");
                Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + png + ": " + e.getMessage(), e);
        }
    }
}
