package dev.kiln.train;

import java.nio.file.Path;
import java.util.Map;

/** Writes the history to a CSV file after every epoch (atomically), so an interrupted run keeps its curves. */
public final class CsvLogger implements Callback {
    private final Path file;

    private CsvLogger(Path file) { this.file = file; }

    public static CsvLogger to(Path file) { return new CsvLogger(file); }

    @Override public void onEpochEnd(TrainingState state, int epoch, Map<String, Double> logs) { state.history().toCsv(file); }
}
