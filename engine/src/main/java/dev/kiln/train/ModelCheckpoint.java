package dev.kiln.train;


import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Saves the model (architecture, weights, optimizer state: a model file: {@code Model.save}) at the end of
 * epochs, every epoch or only when {@code monitor} improves (Keras's ModelCheckpoint). "{epoch}"
 * in the file name becomes the 1-based epoch number; without it each save replaces the last.
 * Saves are atomic, so if training is interrupted, even during a save, the last complete
 * checkpoint stays loadable. A failed save stops {@code fit} with an {@link UncheckedIOException}
 * naming the file: training on without the checkpoints one asked for would lose work silently.
 *
 * <pre>{@code Fit.epochs(20).validation(test).callbacks(ModelCheckpoint.to(Path.of("best.safetensors")).monitor("val_loss").saveBestOnly()) }</pre>
 */
public final class ModelCheckpoint implements Callback {
    private final Path path;
    private final String monitor;
    private final boolean bestOnly;
    private double best;
    private int bestEpoch = -1;
    private Path lastSaved;

    private ModelCheckpoint(Path path, String monitor, boolean bestOnly) {
        if (path == null) throw new IllegalArgumentException("ModelCheckpoint needs a file path");
        this.path = path;
        this.monitor = monitor;
        this.bestOnly = bestOnly;
    }

    /** Saves after every epoch to {@code path}; monitors "val_loss" once {@link #saveBestOnly} is asked for. */
    public static ModelCheckpoint to(Path path) { return new ModelCheckpoint(path, "val_loss", false); }

    /** The logged quantity that decides "best"; "loss"-like names are minimised, others maximised. */
    public ModelCheckpoint monitor(String m) { return new ModelCheckpoint(path, m, bestOnly); }

    /** Saves only when the monitored quantity improves on the best so far. */
    public ModelCheckpoint saveBestOnly() { return new ModelCheckpoint(path, monitor, true); }

    @Override public void onTrainBegin(TrainingState state) {
        best = EarlyStopping.minimises(monitor) ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        bestEpoch = -1;
    }

    @Override public void onEpochEnd(TrainingState state, int epoch, Map<String, Double> logs) {
        if (bestOnly) {
            Double value = logs.get(monitor);
            if (value == null) {
                throw new IllegalArgumentException("ModelCheckpoint monitors '" + monitor + "', which this fit does not log; logged: " + logs.keySet()
                        + (monitor.startsWith("val_") ? " (give validation data or a validation split)" : ""));
            }
            boolean improved = EarlyStopping.minimises(monitor) ? value < best : value > best;
            if (!improved) return;
            best = value;
            bestEpoch = epoch;
        }
        Path target = Path.of(path.toString().replace("{epoch}", Integer.toString(epoch + 1)));
        try {
            Path dir = target.toAbsolutePath().getParent();
            if (dir != null) Files.createDirectories(dir);
            state.model().save(target);
        } catch (IOException e) {
            throw failed(epoch, target, e);
        } catch (UncheckedIOException e) {
            throw failed(epoch, target, e.getCause());
        }
        lastSaved = target;
    }

    private UncheckedIOException failed(int epoch, Path target, IOException e) {
        return new UncheckedIOException("checkpoint after epoch " + (epoch + 1) + " could not be written to " + target
                + (lastSaved == null ? "" : "; the last good checkpoint is " + lastSaved) + ": " + e.getMessage(), e);
    }

    /** The file of the last successful save, or null. */
    public Path lastSaved() { return lastSaved; }
    /** The epoch (0-based) of the best monitored value with saveBestOnly, or -1. */
    public int bestEpoch() { return bestEpoch; }
    public double best() { return best; }
}
