package dev.kiln.data;

import java.util.Arrays;

/**
 * Per-column standardisation {@code (x - mean) / std}, fitted on training data and then applied
 * unchanged to validation and test data, so no statistics leak from them.
 *
 * <pre>{@code
 * Standardizer s = Standardizer.fit(train);
 * Dataset trainStd = s.apply(train), testStd = s.apply(test);
 * }</pre>
 *
 * The std is the population std (divide by N, as scikit-learn's StandardScaler); a constant
 * column gets std 1 so it maps to 0 instead of dividing by zero.
 */
public record Standardizer(float[] mean, float[] std) {
    public Standardizer {
        if (mean.length != std.length) throw new IllegalArgumentException(mean.length + " means but " + std.length + " stds");
        for (int i = 0; i < std.length; i++) {
            if (!Float.isFinite(mean[i]) || !(std[i] > 0) || !Float.isFinite(std[i]))
                throw new IllegalArgumentException("column " + i + ": mean " + mean[i] + " must be finite and std " + std[i] + " finite and > 0");
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** Mean 0, std 1: changes nothing. */
    public static Standardizer identity(int columns) {
        float[] m = new float[columns], s = new float[columns];
        Arrays.fill(s, 1f);
        return new Standardizer(m, s);
    }

    /** Fits every feature of {@code train} (each example flattened to its columns). */
    public static Standardizer fit(Dataset train) {
        return fit(train.features(), train.featuresPerExample(), null);
    }

    /** Fits the columns of a row-major [rows, columns] array; where {@code only} is false a column keeps mean 0, std 1. */
    static Standardizer fit(float[] x, int columns, boolean[] only) {
        int rows = x.length / columns;
        double[] sum = new double[columns], sq = new double[columns];
        for (int r = 0; r < rows; r++) for (int c = 0; c < columns; c++) sum[c] += x[r * columns + c];
        float[] m = new float[columns], s = new float[columns];
        for (int c = 0; c < columns; c++) {
            double mu = sum[c] / rows;
            for (int r = 0; r < rows; r++) { double d = x[r * columns + c] - mu; sq[c] += d * d; }
            double sd = Math.sqrt(sq[c] / rows);
            boolean use = only == null || only[c];
            m[c] = use ? (float) mu : 0f;
            s[c] = use && sd > 1e-12 * Math.max(1, Math.abs(mu)) ? (float) sd : 1f;
        }
        return new Standardizer(m, s);
    }

    public int columns() { return mean.length; }

    @Override public float[] mean() { return mean.clone(); }

    @Override public float[] std() { return std.clone(); }

    /** A standardised copy of {@code d}'s features; labels unchanged. */
    public Dataset apply(Dataset d) {
        if (d.featuresPerExample() != columns())
            throw new IllegalArgumentException("this standardizer was fitted on " + columns() + " columns but the data has "
                    + d.featuresPerExample() + " per example " + d.exampleShape());
        float[] x = d.features();
        applyInPlace(x);
        return Dataset.wrap(x, d.featureShape(), d.labels(), d.labelShape());
    }

    /** Standardises a row-major [rows, columns] array in place. */
    public void applyInPlace(float[] x) {
        int cols = columns();
        if (x.length % cols != 0) throw new IllegalArgumentException(x.length + " values are not whole rows of " + cols + " columns");
        for (int i = 0; i < x.length; i++) {
            int c = i % cols;
            x[i] = (x[i] - mean[c]) / std[c];
        }
    }

    /** Undoes {@link #applyInPlace} (e.g. to report predictions in original units). */
    public void invertInPlace(float[] x) {
        int cols = columns();
        for (int i = 0; i < x.length; i++) {
            int c = i % cols;
            x[i] = x[i] * std[c] + mean[c];
        }
    }

    @Override public boolean equals(Object o) { return o instanceof Standardizer s && Arrays.equals(mean, s.mean) && Arrays.equals(std, s.std); }

    @Override public int hashCode() { return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std); }

    @Override public String toString() { return "Standardizer[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]"; }

}
