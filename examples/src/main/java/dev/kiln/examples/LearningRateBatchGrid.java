package dev.kiln.examples;

import dev.kiln.data.Dataset;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import dev.kiln.train.BatchLogs;
import dev.kiln.train.Callback;
import dev.kiln.train.Fit;
import dev.kiln.train.TrainingState;
import dev.kiln.train.Chart;
import dev.kiln.train.ChartSheet;
import dev.kiln.train.Gif;

import java.nio.file.Path;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Lesson 3's experiment: a linear model {@code y = w x + b} trained with plain SGD on MSE for a
 * fixed number of epochs, over a grid of learning rate × batch size × number of examples. One
 * PNG shows, per setting, the loss of every step and the line it ended with.
 *
 * <p>The inputs are standardised (mean 0, variance 1), so the MSE's curvature is 2 along both w
 * and b, and SGD is stable only below lr = 1: at 1.0 each step overshoots the minimum by exactly
 * as much as it was off, so the parameters oscillate and batch noise keeps the loss up; 0.9 and
 * 0.99 still converge, swinging from side to side; 0.05 creeps down smoothly; batch 2 gives many
 * noisy steps per epoch, batch 128 few.
 *
 * <pre>{@code ./kiln run lr-batch [--epochs N] [--out DIR]}</pre>
 */
public final class LearningRateBatchGrid {
    public static final double TRUE_W = 2.0, TRUE_B = 1.0, NOISE = 0.5;

    private LearningRateBatchGrid() {}

    /** One cell of the grid. */
    public record Setting(double lr, int batch, int examples) {
        @Override public String toString() { return String.format(Locale.ROOT, "lr %s, batch %d, %d examples", lr, batch, examples); }
    }

    public static final List<Setting> GRID = List.of(new Setting(0.05, 32, 256), new Setting(0.05, 2, 256), new Setting(0.05, 128, 256),
            new Setting(0.02, 32, 256), new Setting(0.2, 32, 256), new Setting(1.0, 32, 256),
            new Setting(0.9, 4096, 8192), new Setting(0.99, 4096, 8192));

    /**
     * What one setting did: the loss of every step (NaN-free; cut at divergence), the final
     * parameters, whether the loss left the float range, and the line after every step
     * ({@code lineW[0]}, {@code lineB[0]}: before the first step; then one per step).
     */
    public record Run(Setting setting, double[] stepLoss, double w, double b, boolean diverged, double[] lineW, double[] lineB) {
        /** Mean loss over the last quarter of the steps: where the run settled. */
        public double settledLoss() {
            int from = stepLoss.length - Math.max(1, stepLoss.length / 4);
            double s = 0;
            for (int i = from; i < stepLoss.length; i++) s += stepLoss[i];
            return s / (stepLoss.length - from);
        }
    }

    public record Result(List<Run> runs, Path grid) {
        public Run run(double lr, int batch, int examples) {
            for (Run r : runs) if (r.setting().equals(new Setting(lr, batch, examples))) return r;
            throw new IllegalArgumentException("no run for lr " + lr + ", batch " + batch + ", " + examples + " examples");
        }
    }

    public static void main(String[] args) {
        ExampleMain.run("lr-batch", "[--epochs N] [--out DIR]", args, a -> {
            Path out = Outputs.folder("lr-batch", a);
            Result r = run(GRID, Outputs.intFlag(a, "--epochs", 10), out, true);
            System.out.println("\nGrid of loss curves and fitted lines: " + r.grid());
            System.out.println("The fitted line moving batch by batch, one animation per setting:");
            for (Run run : r.runs()) System.out.println("  " + animate(run, out.resolve(gifName(run.setting())), FRAMES));
        });
    }

    public static Result run(List<Setting> settings, int epochs, Path out, boolean verbose) {
        if (verbose) System.out.printf(Locale.ROOT, "Linear model on y = %.0f x + %.0f + noise (sd %.1f), x standardised; SGD on MSE, %d epochs each%n",
                TRUE_W, TRUE_B, NOISE, epochs);
        List<Run> runs = new ArrayList<>();
        for (Setting s : settings) {
            Run r = train(s, epochs);
            runs.add(r);
            if (verbose) System.out.printf(Locale.ROOT, "%-32s %5d steps, settled loss %s, line y = %.3f x %s %.3f%s%n", s, r.stepLoss().length,
                    r.diverged() ? "  inf" : String.format(Locale.ROOT, "%.3f", r.settledLoss()), r.w(), r.b() < 0 ? "-" : "+", Math.abs(r.b()),
                    r.diverged() ? "  (diverged)" : r.setting().lr() >= 1 ? "  (no convergence: at the stability limit it oscillates)" : "");
        }
        if (verbose) System.out.printf(Locale.ROOT, "The noise alone gives a loss of %.3f.%n", NOISE * NOISE);
        Path png = out.resolve("lr-batch-grid.png");
        drawGrid(png, runs);
        return new Result(runs, png);
    }

    static Run train(Setting s, int epochs) {
        Dataset data = line(s.examples(), 17);
        Dense unit = Dense.of(1);
        Model m = Sequential.of(Input.shape(1), unit).seed(2);
        m.compile(Sgd.lr(s.lr()), Loss.mse());
        m.build();
        StepLosses losses = new StepLosses(unit);
        boolean diverged = false;
        try {
            m.fit(data, Fit.epochs(epochs).batchSize(s.batch()).seed(9).verbose(false).callbacks(losses));
        } catch (ArithmeticException e) {
            diverged = true;   // the loss left the float range: the curve so far is the lesson
        }
        double[] lw = Arrays.copyOf(losses.lineW, losses.count + 1), lb = Arrays.copyOf(losses.lineB, losses.count + 1);
        return new Run(s, losses.values(), unit.kernel().value()[0], unit.bias().value()[0], diverged, lw, lb);
    }

    /** {@code examples} noisy points of the line, x standardised exactly. */
    static Dataset line(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        double mean = 0, sq = 0;
        for (int i = 0; i < n; i++) { x[i] = LinearUnit.gaussian(r); mean += x[i]; }
        mean /= n;
        for (int i = 0; i < n; i++) sq += (x[i] - mean) * (x[i] - mean);
        double sd = Math.sqrt(sq / n);
        float[] fx = new float[n], fy = new float[n];
        for (int i = 0; i < n; i++) {
            fx[i] = (float) ((x[i] - mean) / sd);
            fy[i] = (float) (TRUE_W * fx[i] + TRUE_B + NOISE * LinearUnit.gaussian(r));
        }
        return Dataset.of(fx, Shape.of(n, 1), fy, Shape.of(n, 1));
    }

    /** The loss of each step, recovered from fit's running epoch means: mean_k n_k - mean_{k-1} n_{k-1} over the batch's rows. */
    static final class StepLosses implements Callback {
        private final Dense unit;
        private double[] values = new double[256], lineW = new double[257], lineB = new double[257];
        private int count;
        private double prevSum;
        private long prevSeen;

        /** Also records {@code unit}'s line after every step (and before the first). */
        StepLosses(Dense unit) {
            this.unit = unit;
            lineW[0] = unit.kernel().value()[0];
            lineB[0] = unit.bias().value()[0];
        }

        @Override public void onEpochBegin(TrainingState state, int epoch) { prevSum = 0; prevSeen = 0; }

        @Override public void onBatchEnd(TrainingState state, int batch, BatchLogs logs) {
            double sum = logs.loss() * logs.seen();
            if (count == values.length) {
                values = Arrays.copyOf(values, 2 * count);
                lineW = Arrays.copyOf(lineW, 2 * count + 1);
                lineB = Arrays.copyOf(lineB, 2 * count + 1);
            }
            values[count++] = (sum - prevSum) / (logs.seen() - prevSeen);
            lineW[count] = unit.kernel().value()[0];
            lineB[count] = unit.bias().value()[0];
            prevSum = sum;
            prevSeen = logs.seen();
        }

        double[] values() { return Arrays.copyOf(values, count); }
    }

    /** Frames per animation (besides the line before training): every step when there are fewer, else evenly spaced steps ending at the last. */
    public static final int FRAMES = 40;

    static String gifName(Setting s) { return String.format(Locale.ROOT, "lr-%s-batch-%d.gif", s.lr(), s.batch()); }

    /** The steps an animation shows: 0 (before training), then at most {@code frames} steps, evenly spaced, ending at the last. */
    static int[] frameSteps(int steps, int frames) {
        int n = Math.min(steps, frames);
        int[] at = new int[n + 1];
        for (int i = 1; i <= n; i++) at[i] = (int) Math.round((double) i * steps / n);
        return at;
    }

    /**
     * The course's animation of one setting: per frame, the line after that step over the data (left)
     * and the batch losses so far on the grid's log scale (right); written as a looping GIF. Returns the file.
     */
    static Path animate(Run r, Path gif, int frames) {
        Dataset d = line(r.setting().examples(), 17);
        int shown = Math.min(300, d.size());
        double[] px = new double[shown], py = new double[shown];
        for (int i = 0; i < shown; i++) { px[i] = d.feature(i, 0); py[i] = d.label(i); }
        double[] loss = r.stepLoss().clone();
        for (int i = 0; i < loss.length; i++) loss[i] = Double.isFinite(loss[i]) ? Math.min(1e6, Math.max(loss[i], 1e-6)) : Double.NaN;
        double floor = NOISE * NOISE;
        double[] range = Chart.of("", "", "").withLogY().line("", "", Plots.counting(loss.length), loss).rule(floor, "").dataYRange();   // fixed, so the axis stays put
        List<BufferedImage> images = new ArrayList<>();
        for (int step : frameSteps(r.stepLoss().length, frames)) {
            double w = r.lineW()[step], b = r.lineB()[step];
            Chart fit = Chart.of(String.format(Locale.ROOT, "%s: step %d of %d", r.setting(), step, loss.length), "x", "y")
                    .points("", "data", px, py).yRange(-6.0, 8.0).xRange(-3.0, 3.0);
            if (Double.isFinite(w) && Double.isFinite(b) && Math.abs(w) < 1e6 && Math.abs(b) < 1e6) {
                fit = fit.line("fitted line", "fitted", new double[] {-3, 3}, new double[] {-3 * w + b, 3 * w + b});
            }
            fit = fit.dashed(String.format(Locale.ROOT, "true: y = %.0f x + %.0f", TRUE_W, TRUE_B), "true", new double[] {-3, 3}, new double[] {-3 * TRUE_W + TRUE_B, 3 * TRUE_W + TRUE_B});
            double[] sofar = Arrays.copyOf(loss, Math.max(step, 1));
            if (step == 0) sofar[0] = Double.NaN;
            Chart curve = Chart.of(String.format(Locale.ROOT, "y = %.2f x %s %.2f", w, b < 0 ? "-" : "+", Math.abs(b)), "step", "batch loss (MSE)")
                    .withLogY().withIntegerX().line("", "loss", Plots.counting(sofar.length), sofar)
                    .rule(floor, String.format(Locale.ROOT, "noise floor %.2f", floor)).xRange(1, Math.max(2, loss.length)).yRange(range[0] / 1.5, range[1] * 1.5);
            images.add(ChartSheet.of(2, 380, 260, fit, curve).image());
        }
        Gif.write(gif, images, 150, 2000);
        return gif;
    }

    private static void drawGrid(Path png, List<Run> runs) {
        int columns = 4, w = 380, h = 270;
        ChartSheet.of(columns, w, h, gridCharts(runs, columns).toArray(Chart[]::new)).write(png);
    }

    /**
     * Per row of runs: their batch-loss curves on one shared log scale (with the noise floor drawn), then their fitted lines.
     * A run that diverged is clipped to 1e6 so that it does not stretch every panel's scale.
     */
    static List<Chart> gridCharts(List<Run> runs, int columns) {
        double floor = NOISE * NOISE;
        List<Chart> losses = new ArrayList<>();
        for (Run r : runs) {
            double[] y = r.stepLoss().clone();
            for (int i = 0; i < y.length; i++) y[i] = Double.isFinite(y[i]) ? Math.min(1e6, Math.max(y[i], 1e-6)) : Double.NaN;
            losses.add(Chart.of(r.setting().toString(), "step", "batch loss (MSE)").withLogY().withIntegerX()
                    .line("", "loss", Plots.counting(y.length), y)
                    .rule(floor, String.format(Locale.ROOT, "noise floor %.2f", floor)));
        }
        losses = Chart.sharedY(losses);
        List<Chart> cells = new ArrayList<>();
        for (int row = 0; row < runs.size(); row += columns) {
            List<Run> part = runs.subList(row, Math.min(runs.size(), row + columns));
            cells.addAll(losses.subList(row, row + part.size()));
            for (int k = part.size(); k < columns; k++) cells.add(Chart.of("", "", ""));
            for (Run r : part) {
                Chart c = Chart.of(String.format(Locale.ROOT, "y = %.2f x %s %.2f%s", r.w(), r.b() < 0 ? "-" : "+", Math.abs(r.b()),
                        r.diverged() ? " (diverged)" : ""), "x", "y");
                Dataset d = line(r.setting().examples(), 17);
                int shown = Math.min(300, d.size());
                double[] px = new double[shown], py = new double[shown];
                for (int i = 0; i < shown; i++) { px[i] = d.feature(i, 0); py[i] = d.label(i); }
                c = c.points("", "data", px, py);
                if (Double.isFinite(r.w()) && Double.isFinite(r.b()) && Math.abs(r.w()) < 1e6 && Math.abs(r.b()) < 1e6) {
                    c = c.line("", "fitted", new double[] {-3, 3}, new double[] {-3 * r.w() + r.b(), 3 * r.w() + r.b()});
                }
                cells.add(c.yRange(-6.0, 8.0).xRange(-3.0, 3.0));
            }
            for (int k = part.size(); k < columns; k++) cells.add(Chart.of("", "", ""));
        }
        return cells;
    }
}
