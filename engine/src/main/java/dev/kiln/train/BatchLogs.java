package dev.kiln.train;

import java.util.List;

/** Running figures of the epoch so far, updated in place after every batch (no allocation per batch). */
public final class BatchLogs {
    private final List<String> metricNames;
    private final double[] metrics;
    private double loss, batchLoss;
    private long seen;
    private long startNanos;

    BatchLogs(List<String> metricNames) {
        this.metricNames = List.copyOf(metricNames);
        this.metrics = new double[metricNames.size()];
    }

    void start(long nanos) { startNanos = nanos; seen = 0; loss = 0; }

    void setBatchLoss(double l) { batchLoss = l; }

    void set(double loss, long seen, int metric, double value) {
        this.loss = loss;
        this.seen = seen;
        if (metric >= 0) metrics[metric] = value;
    }

    /** Running mean of the loss over the epoch so far. */
    public double loss() { return loss; }
    /** The loss of the last batch alone. */
    public double batchLoss() { return batchLoss; }
    public long seen() { return seen; }
    public List<String> metricNames() { return metricNames; }
    public double metric(int i) { return metrics[i]; }
    public long startNanos() { return startNanos; }
}
