package dev.kiln.metric;

/**
 * A streaming metric over an epoch, updated on the host from each batch's predictions and
 * targets (no allocation per update). Predictions are [rows, predCols]; targets [rows, targetCols].
 *
 * <pre>{@code model.compile(Adam.lr(1e-3), Loss.binaryCrossentropy(), Metric.binaryAccuracy(), Metric.auc()); }</pre>
 */
public interface Metric {
    /** Keras's name for the metric ("accuracy", "auc"); the History key. */
    String name();

    void reset();

    void update(float[] predictions, float[] targets, int rows, int predCols, int targetCols);

    double result();

    /** A fresh copy (training and validation each keep their own state). */
    Metric copy();

    /**
     * Accuracy that adapts to the output, as Keras's "accuracy": one output column is a binary
     * probability thresholded at 0.5; several columns compare the arg-max with the class index
     * (sparse targets) or with the target's arg-max (one-hot targets).
     */
    static Metric accuracy() { return new Accuracy(); }

    static Metric binaryAccuracy() { return new BinaryAccuracy(0.5); }

    static Metric binaryAccuracy(double threshold) { return new BinaryAccuracy(threshold); }

    static Metric mae() { return new MeanAbsoluteError(); }

    static Metric precision() { return new Confusion(Confusion.Kind.PRECISION, 0.5); }

    static Metric recall() { return new Confusion(Confusion.Kind.RECALL, 0.5); }

    /** ROC AUC from 200 thresholds, interpolated as Keras's default AUC. */
    static Metric auc() { return new Auc(200); }
}
