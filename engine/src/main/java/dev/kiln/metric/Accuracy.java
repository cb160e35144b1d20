package dev.kiln.metric;

/** See {@link Metric#accuracy()}. */
final class Accuracy implements Metric {
    private long correct, total;

    @Override public String name() { return "accuracy"; }
    @Override public void reset() { correct = 0; total = 0; }
    @Override public Metric copy() { return new Accuracy(); }

    @Override public void update(float[] p, float[] t, int rows, int predCols, int targetCols) {
        for (int r = 0; r < rows; r++) {
            boolean hit;
            if (predCols == 1) {
                hit = (p[r] > 0.5f) == (t[r * targetCols] > 0.5f);
            } else {
                int predicted = argmax(p, r * predCols, predCols);
                int actual = targetCols == 1 ? (int) t[r] : argmax(t, r * targetCols, targetCols);
                hit = predicted == actual;
            }
            if (hit) correct++;
        }
        total += rows;
    }

    static int argmax(float[] a, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
        return best;
    }

    @Override public double result() { return total == 0 ? 0 : (double) correct / total; }
}
