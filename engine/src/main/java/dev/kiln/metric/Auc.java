package dev.kiln.metric;

/**
 * ROC AUC estimated from confusion counts at evenly spaced thresholds (Keras's AUC: thresholds
 * 0 - eps, 1/(n-1), ..., 1 + eps; trapezoidal rule over the ROC points).
 */
final class Auc implements Metric {
    private final int thresholds;
    private final long[] tp, fp;
    private long positives, negatives;

    Auc(int thresholds) {
        this.thresholds = thresholds;
        this.tp = new long[thresholds];
        this.fp = new long[thresholds];
    }

    @Override public String name() { return "auc"; }
    @Override public void reset() { java.util.Arrays.fill(tp, 0); java.util.Arrays.fill(fp, 0); positives = negatives = 0; }
    @Override public Metric copy() { return new Auc(thresholds); }

    private double threshold(int i) {
        if (i == 0) return -1e-7;
        if (i == thresholds - 1) return 1 + 1e-7;
        return (double) i / (thresholds - 1);
    }

    @Override public void update(float[] p, float[] t, int rows, int predCols, int targetCols) {
        int n = rows * predCols;
        for (int k = 0; k < n; k++) {
            boolean actual = t[k] > 0.5f;
            if (actual) positives++; else negatives++;
            // predictions above threshold i are positive for all i up to the last threshold below p
            for (int i = 0; i < thresholds && p[k] > threshold(i); i++) {
                if (actual) tp[i]++; else fp[i]++;
            }
        }
    }

    @Override public double result() {
        if (positives == 0 || negatives == 0) return 0;
        double area = 0;
        for (int i = 0; i < thresholds - 1; i++) {
            double tpr0 = (double) tp[i] / positives, fpr0 = (double) fp[i] / negatives;
            double tpr1 = (double) tp[i + 1] / positives, fpr1 = (double) fp[i + 1] / negatives;
            area += (fpr0 - fpr1) * (tpr0 + tpr1) / 2;
        }
        return area;
    }
}
