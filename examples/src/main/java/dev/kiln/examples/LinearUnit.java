package dev.kiln.examples;

import dev.kiln.data.Dataset;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import dev.kiln.train.Chart;
import dev.kiln.train.ChartSheet;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Lesson 1, a single neuron: one linear unit {@code y = w x + b} ({@code Dense(1)} on one input)
 * trained with SGD on noisy points of the line {@code y = 3x - 2} recovers its slope and intercept.
 *
 * <pre>{@code ./kiln run linear [--epochs N] [--out DIR]}</pre>
 */
public final class LinearUnit {
    public static final double TRUE_W = 3.0, TRUE_B = -2.0, NOISE = 0.3;

    private LinearUnit() {}

    public record Result(double initialW, double initialB, double w, double b, double finalLoss, History history, Path curves, Path fit) {}

    public static void main(String[] args) {
        ExampleMain.run("linear", "[--epochs N] [--out DIR]", args, a -> {
            Result r = run(Outputs.intFlag(a, "--epochs", 40), Outputs.folder("linear", a), true);
            System.out.printf(Locale.ROOT, "Learned w = %.3f, b = %.3f (true line: w = %.1f, b = %.1f; noise sd %.1f)%n", r.w(), r.b(), TRUE_W, TRUE_B, NOISE);
            System.out.println("Plots: " + r.curves() + ", " + r.fit());
        });
    }

    public static Result run(int epochs, Path out, boolean verbose) {
        int n = 256;
        float[] x = new float[n], y = new float[n];
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(-2, 2);
            y[i] = (float) (TRUE_W * x[i] + TRUE_B + NOISE * gaussian(rnd));
        }
        Dataset data = Dataset.of(x, Shape.of(n, 1), y, Shape.of(n, 1));

        Dense unit = Dense.of(1);
        Model model = Sequential.of(Input.shape(1), unit).seed(3);
        model.compile(Sgd.lr(0.05), Loss.mse(), Metric.mae());
        double w0 = unit.kernel().value()[0], b0 = unit.bias().value()[0];
        if (verbose) System.out.printf(Locale.ROOT, "A linear unit y = w x + b; before training w = %.3f, b = %.3f (Glorot-uniform w, zero b)%n", w0, b0);

        History h = model.fit(data, Fit.epochs(epochs).batchSize(32).seed(1).verbose(verbose));
        double w = unit.kernel().value()[0], b = unit.bias().value()[0];

        Path curves = out.resolve("learning-curves.png"), fit = out.resolve("fitted-line.png");
        h.plot(curves);
        h.toCsv(out.resolve("history.csv"));
        double[] xs = new double[n], ys = new double[n];
        for (int i = 0; i < n; i++) { xs[i] = x[i]; ys[i] = y[i]; }
        Chart c = Chart.of(String.format(Locale.ROOT, "learned: y = %.2f x %s %.2f", w, b < 0 ? "-" : "+", Math.abs(b)), "x", "y")
                .points("data (y = 3x - 2 + noise)", "data", xs, ys)
                .dashed("before training", "before", new double[] {-2, 2}, new double[] {-2 * w0 + b0, 2 * w0 + b0})
                .line("after training", "after", new double[] {-2, 2}, new double[] {-2 * w + b, 2 * w + b});
        ChartSheet.of(1, 640, 480, c).write(fit);
        return new Result(w0, b0, w, b, h.last("loss"), h, curves, fit);
    }

    static double gaussian(SplittableRandom r) {
        // Box-Muller: SplittableRandom has no nextGaussian with a fixed algorithm across JDKs.
        double u = 1 - r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
