package dev.kiln.train;

import java.util.Map;

/**
 * Hooks into {@code fit}: Keras's callback protocol. {@code logs} maps metric names ("loss",
 * "accuracy", "val_loss", ...) to their epoch values. Callbacks may stop training or change the
 * learning rate through the {@link TrainingState}.
 */
public interface Callback {
    default void onTrainBegin(TrainingState state) {}
    default void onEpochBegin(TrainingState state, int epoch) {}
    /** After each batch, with running means over the epoch so far (a reused object: read, don't keep). */
    default void onBatchEnd(TrainingState state, int batch, BatchLogs logs) {}
    default void onEpochEnd(TrainingState state, int epoch, Map<String, Double> logs) {}
    default void onTrainEnd(TrainingState state) {}
}
