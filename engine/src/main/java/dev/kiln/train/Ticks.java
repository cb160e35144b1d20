package dev.kiln.train;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Tick selection for chart axes: "nice numbers" (steps of 1, 2 or 5 times a power of ten) on linear
 * axes, decades (with 2 and 5 between them when the decades are few) on log axes. The densest choice
 * whose labels keep a gap between them wins, so labels never run together.
 */
public final class Ticks {
    private Ticks() {}

    /** A tick: its value and its label. */
    public record Tick(double value, String label) {}

    /** Pixels between neighbouring labels, at least. */
    static final double GAP = 8;

    /**
     * Ticks for [min, max] on an axis {@code lengthPx} long. {@code extent} is a label's size along the
     * axis (its width on an x axis, its height on a y axis); {@code integer} keeps steps whole.
     */
    public static List<Tick> linear(double min, double max, double lengthPx, boolean integer, ToDoubleFunction<String> extent) {
        if (!(max > min)) return List.of(new Tick(min, format(min, 1)));
        double raw = (max - min) / 50;
        double step = Math.pow(10, Math.floor(Math.log10(raw)));
        for (int attempt = 0; attempt < 60; attempt++) {
            for (double m : new double[] {1, 2, 5}) {
                double s = m * step;
                if (s < raw || (integer && s < 1)) continue;
                List<Tick> ticks = new ArrayList<>();
                for (long k = (long) Math.ceil(min / s - 1e-9); k * s <= max + 1e-9 * s; k++) {
                    double v = k * s;
                    ticks.add(new Tick(v, format(v, s)));
                }
                double px = s / (max - min) * lengthPx;
                if (fits(ticks, px, extent)) return ticks;
            }
            step *= 10;
        }
        return List.of(new Tick(min, format(min, max - min)));
    }

    /** Log-axis ticks for [min, max] (both positive); falls back to linear values when not even two decades show. */
    public static List<Tick> log(double min, double max, double lengthPx, ToDoubleFunction<String> extent) {
        double lo = Math.log10(min), hi = Math.log10(max);
        double perDecade = lengthPx / (hi - lo);
        for (double[] mantissas : new double[][] {{1, 2, 5}, {1}}) {
            List<Tick> ticks = decades(lo, hi, mantissas, 1);
            if (ticks.size() >= 2 && fitsLog(ticks, perDecade, extent)) return ticks;
        }
        for (int every = 2; every <= 12; every++) {
            List<Tick> ticks = decades(lo, hi, new double[] {1}, every);
            if (ticks.size() >= 2 && fitsLog(ticks, perDecade, extent)) return ticks;
        }
        // Less than two decade ticks fit: nice linear values, placed on the log scale.
        double raw = (max - min) / 20;
        double step = Math.pow(10, Math.floor(Math.log10(raw)));
        for (int attempt = 0; attempt < 30; attempt++, step *= 10) {
            for (double m : new double[] {1, 2, 5}) {
                double s = m * step;
                List<Tick> ticks = new ArrayList<>();
                for (long k = (long) Math.ceil(min / s - 1e-9); k * s <= max + 1e-9 * s; k++) if (k > 0) ticks.add(new Tick(k * s, format(k * s, s)));
                if (ticks.size() >= 2 && fitsLog(ticks, perDecade, extent)) return ticks;
            }
        }
        return List.of(new Tick(min, logLabel(min)));
    }

    private static List<Tick> decades(double lo, double hi, double[] mantissas, int every) {
        List<Tick> ticks = new ArrayList<>();
        for (int e = (int) Math.floor(lo) - 1; e <= (int) Math.ceil(hi); e++) {
            if (Math.floorMod(e, every) != 0) continue;
            for (double m : mantissas) {
                double v = m * Math.pow(10, e);
                double l = Math.log10(v);
                if (l >= lo - 1e-9 && l <= hi + 1e-9) ticks.add(new Tick(v, logLabel(v)));
            }
        }
        return ticks;
    }

    private static boolean fits(List<Tick> ticks, double spacingPx, ToDoubleFunction<String> extent) {
        double widest = 0;
        for (Tick t : ticks) widest = Math.max(widest, extent.applyAsDouble(t.label()));
        return spacingPx >= widest + GAP;
    }

    private static boolean fitsLog(List<Tick> ticks, double perDecade, ToDoubleFunction<String> extent) {
        for (int i = 1; i < ticks.size(); i++) {
            double px = (Math.log10(ticks.get(i).value()) - Math.log10(ticks.get(i - 1).value())) * perDecade;
            double half = (extent.applyAsDouble(ticks.get(i).label()) + extent.applyAsDouble(ticks.get(i - 1).label())) / 2;
            if (px < half + GAP) return false;
        }
        return true;
    }

    /** {@code v} with as many decimals as the step needs ("0.25" for step 0.05, "150" for step 50). */
    static String format(double v, double step) {
        int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        if (Math.abs(v) < step * 1e-6) v = 0;
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** "0.02", "5", "1000", or "1e-5" / "2e6" outside [0.001, 10000). */
    static String logLabel(double v) {
        if (v >= 1e-3 && v < 1e4) return new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros().toPlainString();
        int e = (int) Math.floor(Math.log10(v) + 1e-9);
        long m = Math.round(v / Math.pow(10, e));
        return (m == 1 ? "1" : Long.toString(m)) + "e" + e;
    }

    /** [lo, hi] widened by 4% each side (a flat range by 1 either side), so nothing sits on the frame. */
    static double[] pad(double lo, double hi) {
        if (!(hi > lo)) return new double[] {lo - 1, hi + 1};
        double p = 0.04 * (hi - lo);
        return new double[] {lo - p, hi + p};
    }
}
