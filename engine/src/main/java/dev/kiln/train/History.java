package dev.kiln.train;


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

    /** Adds one epoch's figures (a loop's own; also for trainers outside this package, e.g. data-parallel training). */
    public void append(Map<String, Double> logs) {
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
     * Writes a PNG with one panel per quantity (loss, then each metric): training (solid) and validation
     * (dashed) curves per epoch, the best validation epoch ringed. Written to a temporary file and moved into place.
     */
    public void plot(Path png) { sheet().write(png); }

    /** The charts {@link #plot} draws. */
    public ChartSheet sheet() {
        List<Chart> charts = new ArrayList<>();
        for (String k : curves.keySet()) if (!k.startsWith("val_") && !k.equals("lr")) charts.add(chart(k));
        return new ChartSheet(charts, Math.max(1, charts.size()), 520, 380);
    }

    private Chart chart(String base) {
        Chart c = Chart.of(base, "epoch", base).withIntegerX().line("train", "train", epochAxis(curves.get(base).size()), toArray(curves.get(base)));
        List<Double> val = curves.get("val_" + base);
        if (val == null) return c;
        double[] v = toArray(val);
        c = c.dashed("validation", "validation", epochAxis(v.length), v);
        boolean lower = base.contains("loss") || base.contains("mae") || base.contains("mse") || base.contains("error");
        int best = -1;
        for (int i = 0; i < v.length; i++) if (Double.isFinite(v[i]) && (best < 0 || (lower ? v[i] < v[best] : v[i] > v[best]))) best = i;
        return best < 0 ? c : c.mark(best + 1, v[best], "best epoch " + (best + 1), "validation");
    }

    private static double[] epochAxis(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = i + 1;
        return x;
    }

    private static double[] toArray(List<Double> ys) {
        double[] y = new double[ys.size()];
        for (int i = 0; i < y.length; i++) y[i] = ys.get(i);
        return y;
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
