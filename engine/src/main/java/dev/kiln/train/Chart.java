package dev.kiln.train;

import java.util.ArrayList;
import java.util.List;

/**
 * One plot panel as data: series, reference lines and marked points, drawn by {@link ChartLayout}
 * and put on a PNG by {@link ChartSheet}. Immutable; each method returns a new chart.
 *
 * <pre>{@code
 * Chart c = Chart.of("loss", "epoch", "MSE").withIntegerX()
 *         .line("Adam train", "Adam", x, y).dashed("Adam validation", "Adam", x, v);
 * ChartSheet.of(1, 640, 440, c).write(Path.of("loss.png"));
 * }</pre>
 *
 * @param yMin,yMax a fixed y range, or NaN to fit the data (log axes: the positive data)
 */
public record Chart(String title, String xLabel, String yLabel, List<Series> series, List<Rule> rules, List<Mark> marks,
                    boolean logY, boolean integerX, double xMin, double xMax, double yMin, double yMax) {

    /** How a series is drawn. */
    public enum Style { LINE, DASHED, POINTS }

    /** A curve or point cloud; {@code colorKey} picks the colour, the same on every panel of a sheet. */
    public record Series(String name, String colorKey, double[] x, double[] y, Style style, float width) {
        public Series {
            if (x.length != y.length) throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
        }
    }

    /** A labelled horizontal line at {@code y} (a floor, a baseline). */
    public record Rule(double y, String label) {}

    /** A labelled point (the best epoch), drawn as a ring in the colour of {@code colorKey}. */
    public record Mark(double x, double y, String label, String colorKey) {}

    public Chart {
        series = List.copyOf(series);
        rules = List.copyOf(rules);
        marks = List.copyOf(marks);
    }

    public static Chart of(String title, String xLabel, String yLabel) {
        return new Chart(title, xLabel, yLabel, List.of(), List.of(), List.of(), false, false, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    public Chart line(String name, String colorKey, double[] x, double[] y) { return with(new Series(name, colorKey, x, y, Style.LINE, 2f)); }

    public Chart dashed(String name, String colorKey, double[] x, double[] y) { return with(new Series(name, colorKey, x, y, Style.DASHED, 2f)); }

    public Chart points(String name, String colorKey, double[] x, double[] y) { return with(new Series(name, colorKey, x, y, Style.POINTS, 1f)); }

    public Chart with(Series s) {
        List<Series> all = new ArrayList<>(series);
        all.add(s);
        return new Chart(title, xLabel, yLabel, all, rules, marks, logY, integerX, xMin, xMax, yMin, yMax);
    }

    public Chart rule(double y, String label) {
        List<Rule> all = new ArrayList<>(rules);
        all.add(new Rule(y, label));
        return new Chart(title, xLabel, yLabel, series, all, marks, logY, integerX, xMin, xMax, yMin, yMax);
    }

    public Chart mark(double x, double y, String label, String colorKey) {
        List<Mark> all = new ArrayList<>(marks);
        all.add(new Mark(x, y, label, colorKey));
        return new Chart(title, xLabel, yLabel, series, rules, all, logY, integerX, xMin, xMax, yMin, yMax);
    }

    /** A logarithmic y axis (ticks at decades, with 2 and 5 between them when decades are few). */
    public Chart withLogY() { return new Chart(title, xLabel, yLabel, series, rules, marks, true, integerX, xMin, xMax, yMin, yMax); }

    /** Whole-number x ticks only (epochs, steps). */
    public Chart withIntegerX() { return new Chart(title, xLabel, yLabel, series, rules, marks, logY, true, xMin, xMax, yMin, yMax); }

    public Chart xRange(double min, double max) { return new Chart(title, xLabel, yLabel, series, rules, marks, logY, integerX, min, max, yMin, yMax); }

    public Chart yRange(double min, double max) { return new Chart(title, xLabel, yLabel, series, rules, marks, logY, integerX, xMin, xMax, min, max); }

    /** The y range that holds every finite (on log axes: positive) value of the series and rules. */
    public double[] dataYRange() {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) for (double v : s.y()) if (usable(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        for (Rule r : rules) if (usable(r.y())) { lo = Math.min(lo, r.y()); hi = Math.max(hi, r.y()); }
        return new double[] {lo, hi};
    }

    double[] dataXRange() {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) for (double v : s.x()) if (Double.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        return new double[] {lo, hi};
    }

    boolean usable(double y) { return Double.isFinite(y) && (!logY || y > 0); }

    /** The same y range on every chart (the union of their data), so panels can be compared at a glance. */
    public static List<Chart> sharedY(List<Chart> charts) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Chart c : charts) { double[] r = c.dataYRange(); lo = Math.min(lo, r[0]); hi = Math.max(hi, r[1]); }
        if (lo > hi) return List.copyOf(charts);
        boolean log = !charts.isEmpty() && charts.getFirst().logY();
        double[] padded = log ? new double[] {lo / Math.pow(hi / lo, 0.04), hi * Math.pow(hi / lo, 0.04)} : Ticks.pad(lo, hi);
        List<Chart> out = new ArrayList<>();
        for (Chart c : charts) out.add(c.yRange(padded[0], padded[1]));
        return out;
    }
}
