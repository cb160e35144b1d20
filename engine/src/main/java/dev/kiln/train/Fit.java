package dev.kiln.train;

import dev.kiln.data.Augment;
import dev.kiln.data.Dataset;
import dev.kiln.optim.Schedule;

import java.util.ArrayList;
import java.util.List;

/**
 * How to train: epochs, batch size, validation data, shuffling seed, learning-rate schedule and
 * callbacks. A value with withers.
 *
 * <pre>{@code Fit.epochs(10).batchSize(64).validation(test).callbacks(EarlyStopping.on("val_loss").patience(3)) }</pre>
 *
 * @param validationSplit fraction of the training data held out for validation (the last rows,
 *                        before shuffling, as Keras does); ignored when {@code validation} is given
 * @param verbose         print a progress bar (a line per epoch when the output is not a terminal)
 * @param initialEpoch    the epoch to start at (Keras's initial_epoch), to resume a run: epochs are counted
 *                        from 0 and {@code epochs} is the index to stop before, so a run saved after 2 of
 *                        4 epochs continues with {@code Fit.epochs(4).initialEpoch(2)}; epoch e shuffles
 *                        and augments as epoch e of an uninterrupted run
 */
public record Fit(int epochs, int batchSize, Dataset validation, double validationSplit, boolean shuffle, long seed,
                  Schedule schedule, List<Callback> callbacks, boolean verbose, boolean prefetch, Augment augment, int initialEpoch) {
    public Fit {
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (!(validationSplit >= 0 && validationSplit < 1)) throw new IllegalArgumentException("validation split must be in [0, 1), got " + validationSplit);
        if (initialEpoch < 0 || initialEpoch >= epochs) {
            throw new IllegalArgumentException("initial epoch " + initialEpoch + " must be in [0, epochs = " + epochs + "): epochs counts from 0, so Fit.epochs(4).initialEpoch(2) trains the last 2 of 4 epochs");
        }
        callbacks = List.copyOf(callbacks);
    }

    public static Fit epochs(int epochs) {
        return new Fit(epochs, 32, null, 0, true, 0, null, List.of(), true, true, Augment.none(), 0);
    }

    public Fit batchSize(int b) { return new Fit(epochs, b, validation, validationSplit, shuffle, seed, schedule, callbacks, verbose, prefetch, augment, initialEpoch); }
    public Fit validation(Dataset v) { return new Fit(epochs, batchSize, v, validationSplit, shuffle, seed, schedule, callbacks, verbose, prefetch, augment, initialEpoch); }
    public Fit validationSplit(double f) { return new Fit(epochs, batchSize, validation, f, shuffle, seed, schedule, callbacks, verbose, prefetch, augment, initialEpoch); }
    public Fit shuffle(boolean s) { return new Fit(epochs, batchSize, validation, validationSplit, s, seed, schedule, callbacks, verbose, prefetch, augment, initialEpoch); }
    public Fit seed(long s) { return new Fit(epochs, batchSize, validation, validationSplit, shuffle, s, schedule, callbacks, verbose, prefetch, augment, initialEpoch); }
    public Fit schedule(Schedule s) { return new Fit(epochs, batchSize, validation, validationSplit, shuffle, seed, s, callbacks, verbose, prefetch, augment, initialEpoch); }
    public Fit verbose(boolean v) { return new Fit(epochs, batchSize, validation, validationSplit, shuffle, seed, schedule, callbacks, v, prefetch, augment, initialEpoch); }
    public Fit prefetch(boolean p) { return new Fit(epochs, batchSize, validation, validationSplit, shuffle, seed, schedule, callbacks, verbose, p, augment, initialEpoch); }
    public Fit augment(Augment a) { return new Fit(epochs, batchSize, validation, validationSplit, shuffle, seed, schedule, callbacks, verbose, prefetch, a, initialEpoch); }

    public Fit initialEpoch(int e) { return new Fit(epochs, batchSize, validation, validationSplit, shuffle, seed, schedule, callbacks, verbose, prefetch, augment, e); }

    /**
     * Shows training live on a local web page ({@link Dashboard#shared}: its address is printed) and writes a
     * self-contained HTML report after it (kiln-out/dashboard.html unless -Dkiln.dashboard.report says otherwise).
     */
    public Fit dashboard() { return callbacks(Dashboard.shared()); }

    public Fit callbacks(Callback... cs) {
        List<Callback> all = new ArrayList<>(callbacks);
        all.addAll(List.of(cs));
        return new Fit(epochs, batchSize, validation, validationSplit, shuffle, seed, schedule, all, verbose, prefetch, augment, initialEpoch);
    }
}
