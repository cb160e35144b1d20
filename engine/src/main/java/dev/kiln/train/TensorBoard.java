package dev.kiln.train;

import dev.kiln.graph.Variable;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes TensorBoard event files as Keras's TensorBoard callback does: under {@code logDir/train} the epoch's
 * loss and metrics ({@code epoch_loss}, {@code epoch_accuracy}, ...) and, every {@code histogramFreq} epochs, a
 * histogram of each weight (tagged with its name); under {@code logDir/validation} the validation twins (as
 * {@code epoch_loss} etc.); with {@link #everyBatch} also {@code batch_loss} and the running metrics at each
 * optimizer step. Each {@code fit} writes new files. Read them with {@code tensorboard --logdir DIR}.
 *
 * <pre>{@code model.fit(train, Fit.epochs(10).validation(test).callbacks(TensorBoard.to(Path.of("runs/mnist")))); }</pre>
 *
 * <p>A callback object holds the files of the {@code fit} in progress: give each concurrent {@code fit} its own.
 */
public final class TensorBoard implements Callback {
    private final Path logDir;
    private final boolean batchScalars;
    private final int histogramFreq;
    private EventFile train, validation;

    private TensorBoard(Path logDir, boolean batchScalars, int histogramFreq) {
        if (histogramFreq < 0) throw new IllegalArgumentException("TensorBoard histogram frequency must be >= 0 (0: no histograms), got " + histogramFreq);
        this.logDir = logDir;
        this.batchScalars = batchScalars;
        this.histogramFreq = histogramFreq;
    }

    /** Epoch scalars and a weight histogram every epoch, under {@code logDir}. */
    public static TensorBoard to(Path logDir) { return new TensorBoard(logDir, false, 1); }

    /** Also the loss and running metrics after every batch (tags {@code batch_loss}, {@code batch_<metric>}; step: the optimizer step). */
    public TensorBoard everyBatch() { return new TensorBoard(logDir, true, histogramFreq); }

    /** Weight histograms every {@code epochs} epochs (0: none). */
    public TensorBoard histogramFreq(int epochs) { return new TensorBoard(logDir, batchScalars, epochs); }

    public Path logDir() { return logDir; }

    @Override public void onTrainBegin(TrainingState state) {
        onTrainEnd(state);
        train = EventFile.create(logDir.resolve("train"), System.currentTimeMillis(), host());
    }

    @Override public void onBatchEnd(TrainingState state, int batch, BatchLogs logs) {
        if (!batchScalars) return;
        double wall = System.currentTimeMillis() / 1000.0;
        long step = state.model().iterations();
        train.scalar(wall, step, "batch_loss", logs.batchLoss());
        for (int m = 0; m < logs.metricNames().size(); m++) train.scalar(wall, step, "batch_" + logs.metricNames().get(m), logs.metric(m));
    }

    @Override public void onEpochEnd(TrainingState state, int epoch, Map<String, Double> logs) {
        double wall = System.currentTimeMillis() / 1000.0;
        for (Map.Entry<String, Double> e : logs.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("val_")) validation().scalar(wall, epoch, "epoch_" + k.substring(4), e.getValue());
            else train.scalar(wall, epoch, "epoch_" + (k.equals("lr") ? "learning_rate" : k), e.getValue());
        }
        if (histogramFreq > 0 && epoch % histogramFreq == 0) {
            for (Variable w : state.model().weights()) train.histogram(wall, epoch, w.name(), w.value());
        }
        train.flush();
        if (validation != null) validation.flush();
    }

    /** The validation file, made with the first validation value (a fit without validation data makes none, as Keras). */
    private EventFile validation() {
        if (validation == null) validation = EventFile.create(logDir.resolve("validation"), System.currentTimeMillis(), host());
        return validation;
    }

    @Override public void onTrainEnd(TrainingState state) {
        if (train != null) train.close();
        if (validation != null) validation.close();
        train = validation = null;
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "_");
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
