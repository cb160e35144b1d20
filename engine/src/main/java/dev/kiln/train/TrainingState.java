package dev.kiln.train;

/** What callbacks see and may change during {@code fit}: the model, progress, the learning rate, the stop flag. */
public final class TrainingState {
    private final Trainable model;
    private final History history;
    private final int epochs, batchesPerEpoch, examples;
    private double learningRate;
    private boolean stop;

    TrainingState(Trainable model, History history, int epochs, int batchesPerEpoch, int examples, double learningRate) {
        this.model = model;
        this.history = history;
        this.epochs = epochs;
        this.batchesPerEpoch = batchesPerEpoch;
        this.examples = examples;
        this.learningRate = learningRate;
    }

    public Trainable model() { return model; }
    public History history() { return history; }
    public int epochs() { return epochs; }
    public int batchesPerEpoch() { return batchesPerEpoch; }
    public int examples() { return examples; }
    public double learningRate() { return learningRate; }
    public void setLearningRate(double lr) {
        if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be a positive number, got " + lr);
        learningRate = lr;
    }
    /**
     * Ends training (Keras's {@code model.stop_training = True}): called from {@code onBatchEnd}, after that
     * batch (the epoch's logs then cover the batches run, and validation and {@code onEpochEnd} still run);
     * called from {@code onEpochEnd}, as {@link EarlyStopping} does, after that epoch.
     */
    public void stopTraining() { stop = true; }
    public boolean stopRequested() { return stop; }
}
