package dev.kiln.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Keras's progress display: on a terminal, a bar redrawn in place (at most 10 times a second)
 * with the running loss and metrics, samples/s and ETA; otherwise one line per epoch.
 */
public final class ProgressBar implements Callback {
    private static final long REDRAW_NANOS = 100_000_000L;
    /** Without a terminal, a progress line this often inside long epochs (a log shows signs of life). */
    private static final long LOG_NANOS = 30_000_000_000L;
    private final PrintStream out;
    private final boolean terminal;
    private long lastDraw;

    public ProgressBar(PrintStream out) { this(out, System.console() != null && System.console().isTerminal()); }

    ProgressBar(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override public void onEpochBegin(TrainingState state, int epoch) {
        if (terminal) out.println("Epoch " + (epoch + 1) + "/" + state.epochs());
        lastDraw = 0;
    }

    @Override public void onBatchEnd(TrainingState state, int batch, BatchLogs logs) {
        long now = System.nanoTime();
        if (!terminal) {
            if (lastDraw == 0) lastDraw = logs.startNanos();
            if (now - lastDraw >= LOG_NANOS && batch + 1 < state.batchesPerEpoch()) {
                lastDraw = now;
                double seconds = (now - logs.startNanos()) / 1e9;
                out.println(String.format(Locale.ROOT, "  batch %d/%d - %s - loss: %.4f - %,.0f samples/s", batch + 1, state.batchesPerEpoch(),
                        duration(seconds), logs.loss(), logs.seen() / Math.max(seconds, 1e-9)));
            }
            return;
        }
        int total = state.batchesPerEpoch();
        if (now - lastDraw < REDRAW_NANOS && batch + 1 < total) return;
        lastDraw = now;
        double seconds = (now - logs.startNanos()) / 1e9;
        int done = batch + 1, width = 30, filled = (int) ((long) width * done / total);
        StringBuilder sb = new StringBuilder("\r");
        String count = String.valueOf(total);
        sb.append(" ".repeat(count.length() - String.valueOf(done).length())).append(done).append('/').append(count).append(" [");
        sb.append("=".repeat(Math.max(0, filled - 1))).append(filled > 0 ? (done == total ? "=" : ">") : "").append(".".repeat(width - filled)).append("] ");
        if (done < total) sb.append("ETA: ").append(duration(seconds / done * (total - done))).append(" - ");
        else sb.append(duration(seconds)).append(" - ");
        sb.append(String.format(Locale.ROOT, "loss: %.4f", logs.loss()));
        for (int i = 0; i < logs.metricNames().size(); i++) sb.append(String.format(Locale.ROOT, " - %s: %.4f", logs.metricNames().get(i), logs.metric(i)));
        sb.append(String.format(Locale.ROOT, " - %,.0f samples/s", logs.seen() / Math.max(seconds, 1e-9)));
        out.print(sb);
        out.flush();
    }

    @Override public void onEpochEnd(TrainingState state, int epoch, Map<String, Double> logs) {
        StringBuilder sb = new StringBuilder();
        if (terminal) {
            for (Map.Entry<String, Double> e : logs.entrySet()) if (e.getKey().startsWith("val_")) sb.append(String.format(Locale.ROOT, " - %s: %.4f", e.getKey(), e.getValue()));
            out.println(sb);
            return;
        }
        sb.append("Epoch ").append(epoch + 1).append('/').append(state.epochs());
        for (Map.Entry<String, Double> e : logs.entrySet()) sb.append(String.format(Locale.ROOT, " - %s: %.4f", e.getKey(), e.getValue()));
        out.println(sb);
    }

    static String duration(double seconds) {
        if (seconds < 1) return String.format(Locale.ROOT, "%.0fms", seconds * 1000);
        if (seconds < 60) return String.format(Locale.ROOT, "%.0fs", seconds);
        return String.format(Locale.ROOT, "%dm%02ds", (long) seconds / 60, (long) seconds % 60);
    }
}
