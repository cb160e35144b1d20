package dev.kiln.metric;

/** Mean of |prediction - target| over every element. */
final class MeanAbsoluteError implements Metric {
    private double sum;
    private long count;

    @Override public String name() { return "mae"; }
    @Override public void reset() { sum = 0; count = 0; }
    @Override public Metric copy() { return new MeanAbsoluteError(); }

    @Override public void update(float[] p, float[] t, int rows, int predCols, int targetCols) {
        int n = rows * predCols;
        for (int i = 0; i < n; i++) sum += Math.abs(p[i] - t[i]);
        count += n;
    }

    @Override public double result() { return count == 0 ? 0 : sum / count; }
}
