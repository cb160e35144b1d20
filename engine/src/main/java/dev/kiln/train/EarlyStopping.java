package dev.kiln.train;

import dev.kiln.graph.Variable;

import java.util.List;
import java.util.Map;

/**
 * Stops training when {@code monitor} has not improved by {@code minDelta} for {@code patience}
 * epochs, and can put back the weights of the best epoch (Keras's restore_best_weights).
 * "loss"-like names are minimised, others ("accuracy", "auc") maximised.
 *
 * <pre>{@code EarlyStopping.on("val_loss").patience(5).restoreBestWeights() }</pre>
 */
public final class EarlyStopping implements Callback {
    private final String monitor;
    private final int patience;
    private final double minDelta;
    private final boolean restoreBest;
    private double best;
    private int wait, bestEpoch = -1, stoppedEpoch = -1;
    private float[][] bestWeights;

    private EarlyStopping(String monitor, int patience, double minDelta, boolean restoreBest) {
        if (patience < 0) throw new IllegalArgumentException("patience must be >= 0");
        // as Keras: stop once `patience` epochs in a row failed to improve (patience 0 stops at the first)
        this.monitor = monitor;
        this.patience = patience;
        this.minDelta = Math.abs(minDelta);
        this.restoreBest = restoreBest;
    }

    public static EarlyStopping on(String monitor) { return new EarlyStopping(monitor, 0, 0, false); }

    public EarlyStopping patience(int p) { return new EarlyStopping(monitor, p, minDelta, restoreBest); }
    public EarlyStopping minDelta(double d) { return new EarlyStopping(monitor, patience, d, restoreBest); }
    public EarlyStopping restoreBestWeights() { return new EarlyStopping(monitor, patience, minDelta, true); }

    private boolean minimise() { return minimises(monitor); }

    /** Whether a logged quantity improves downwards ("loss", "val_mae") rather than upwards ("accuracy", "auc"). */
    static boolean minimises(String monitor) { return monitor.contains("loss") || monitor.contains("error") || monitor.endsWith("mae"); }

    @Override public void onTrainBegin(TrainingState state) {
        best = minimise() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        wait = 0; bestEpoch = -1; stoppedEpoch = -1; bestWeights = null;
    }

    @Override public void onEpochEnd(TrainingState state, int epoch, Map<String, Double> logs) {
        Double value = logs.get(monitor);
        if (value == null) throw new IllegalArgumentException("EarlyStopping monitors '" + monitor + "', which this fit does not log; logged: " + logs.keySet()
                + (monitor.startsWith("val_") ? " (give validation data or a validation split)" : ""));
        boolean improved = minimise() ? value < best - minDelta : value > best + minDelta;
        if (improved) {
            best = value;
            bestEpoch = epoch;
            wait = 0;
            if (restoreBest) bestWeights = snapshot(state.model().weights());
        } else if (++wait >= patience) {
            stoppedEpoch = epoch;
            state.stopTraining();
        }
    }

    @Override public void onTrainEnd(TrainingState state) {
        if (restoreBest && bestWeights != null) {
            List<Variable> weights = state.model().weights();
            for (int i = 0; i < weights.size(); i++) weights.get(i).assign(bestWeights[i]);
        }
    }

    private static float[][] snapshot(List<Variable> weights) {
        float[][] copy = new float[weights.size()][];
        for (int i = 0; i < copy.length; i++) copy[i] = weights.get(i).value().clone();
        return copy;
    }

    /** The epoch (0-based) with the best value, or -1. */
    public int bestEpoch() { return bestEpoch; }
    /** The epoch (0-based) training stopped after, or -1 when it ran to the end. */
    public int stoppedEpoch() { return stoppedEpoch; }
    public double best() { return best; }
}
