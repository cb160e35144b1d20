package dev.kiln.examples;

import dev.kiln.data.Dataset;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;
import dev.kiln.train.Chart;
import dev.kiln.train.ChartSheet;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Lesson 2, deep neural networks: on noisy points of a curve, {@code y = sin(2x) + x/2}, a linear
 * unit fits only a line; three stacked Dense layers <em>without</em> activations still fit only a
 * line (a composition of linear maps is linear); the same stack with ReLU bends into the curve.
 *
 * <pre>{@code ./kiln run deep [--epochs N] [--out DIR]}</pre>
 */
public final class DeepNet {
    static final double NOISE = 0.1;

    private DeepNet() {}

    /** Validation MAE of each model. */
    public record Result(double linearMae, double deepLinearMae, double deepReluMae, Path fits) {}

    public static void main(String[] args) {
        ExampleMain.run("deep", "[--epochs N] [--out DIR]", args, a -> {
            Result r = run(Outputs.intFlag(a, "--epochs", 60), Outputs.folder("deep", a), true);
            System.out.printf(Locale.ROOT, "%nValidation MAE: linear unit %.3f, deep without activations %.3f, deep with ReLU %.3f (noise MAE about %.3f)%n",
                    r.linearMae(), r.deepLinearMae(), r.deepReluMae(), NOISE * Math.sqrt(2 / Math.PI));
            System.out.println("Fitted curves: " + r.fits());
        });
    }

    static double curve(double x) { return Math.sin(2 * x) + x / 2; }

    public static Result run(int epochs, Path out, boolean verbose) {
        Dataset train = sample(1024, 1), validation = sample(256, 2);
        double[] mae = new double[3];
        String[] names = {"linear unit", "3 x Dense 64, no activation", "3 x Dense 64, ReLU"};
        Chart c = Chart.of("y = sin(2x) + x/2 + noise", "x", "y");
        double[] px = new double[validation.size()], py = new double[validation.size()];
        for (int i = 0; i < px.length; i++) { px[i] = validation.feature(i, 0); py[i] = validation.label(i); }
        c = c.points("validation data", "validation data", px, py);
        float[] grid = new float[121];
        double[] gx = new double[grid.length];
        for (int i = 0; i < grid.length; i++) { grid[i] = (float) (-3 + 0.05 * i); gx[i] = grid[i]; }
        for (int k = 0; k < 3; k++) {
            List<Layer> layers = new ArrayList<>();
            if (k > 0) for (int j = 0; j < 3; j++) layers.add(k == 2 ? Dense.of(64).relu() : Dense.of(64));
            layers.add(Dense.of(1));
            Model m = Sequential.of(Input.shape(1), layers.toArray(Layer[]::new)).seed(5);
            m.compile(Adam.lr(0.01), Loss.mae(), Metric.mae());
            m.fit(train, Fit.epochs(epochs).batchSize(32).seed(3).verbose(false));
            mae[k] = m.evaluate(validation, 256).get("mae");
            if (verbose) System.out.printf(Locale.ROOT, "%-30s %,7d weights, validation MAE %.3f%n", names[k], m.parameterCounts()[0], mae[k]);
            float[] pred = m.predict(grid, 128);
            double[] gy = new double[pred.length];
            for (int i = 0; i < pred.length; i++) gy[i] = pred[i];
            c = c.line(names[k], names[k], gx, gy);
        }
        Path png = out.resolve("fits.png");
        ChartSheet.of(1, 800, 520, c).write(png);
        return new Result(mae[0], mae[1], mae[2], png);
    }

    private static Dataset sample(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n], y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(-3, 3);
            y[i] = (float) (curve(x[i]) + NOISE * LinearUnit.gaussian(r));
        }
        return Dataset.of(x, Shape.of(n, 1), y, Shape.of(n, 1));
    }
}
