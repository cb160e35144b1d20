package dev.kiln.metric;

/** Precision = tp / (tp + fp) and recall = tp / (tp + fn) of thresholded binary predictions. */
final class Confusion implements Metric {
    enum Kind { PRECISION, RECALL }

    private final Kind kind;
    private final double threshold;
    private long tp, fp, fn;

    Confusion(Kind kind, double threshold) { this.kind = kind; this.threshold = threshold; }

    @Override public String name() { return kind == Kind.PRECISION ? "precision" : "recall"; }
    @Override public void reset() { tp = fp = fn = 0; }
    @Override public Metric copy() { return new Confusion(kind, threshold); }

    @Override public void update(float[] p, float[] t, int rows, int predCols, int targetCols) {
        int n = rows * predCols;
        for (int i = 0; i < n; i++) {
            boolean predicted = p[i] > threshold, actual = t[i] > 0.5f;
            if (predicted && actual) tp++;
            else if (predicted) fp++;
            else if (actual) fn++;
        }
    }

    @Override public double result() {
        long denominator = kind == Kind.PRECISION ? tp + fp : tp + fn;
        return denominator == 0 ? 0 : (double) tp / denominator;
    }
}
