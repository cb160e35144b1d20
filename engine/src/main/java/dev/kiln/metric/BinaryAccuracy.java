package dev.kiln.metric;

/** Fraction of elements where (prediction > threshold) equals (target > 0.5). */
final class BinaryAccuracy implements Metric {
    private final double threshold;
    private long correct, total;

    BinaryAccuracy(double threshold) { this.threshold = threshold; }

    @Override public String name() { return "binary_accuracy"; }
    @Override public void reset() { correct = 0; total = 0; }
    @Override public Metric copy() { return new BinaryAccuracy(threshold); }

    @Override public void update(float[] p, float[] t, int rows, int predCols, int targetCols) {
        int n = rows * predCols;
        for (int i = 0; i < n; i++) if ((p[i] > threshold) == (t[i] > 0.5f)) correct++;
        total += n;
    }

    @Override public double result() { return total == 0 ? 0 : (double) correct / total; }
}
