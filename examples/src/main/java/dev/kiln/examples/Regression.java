package dev.kiln.examples;

import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.optim.Optimizer;
import dev.kiln.optim.Sgd;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import dev.kiln.train.Chart;
import dev.kiln.train.ChartSheet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Lesson 3, stochastic gradient descent: the same small network trained on auto_mpg.csv (fuel
 * economy from engine size, weight, year and origin) with MAE loss, once with SGD and once with
 * Adam, for 200 epochs of batch 128; learning curves of both, and their validation MAE against
 * always predicting the mean.
 *
 * <pre>{@code ./kiln run regression [--epochs N] [--out DIR]}</pre>
 */
public final class Regression {
    private Regression() {}

    /** One optimizer's run: validation MAE in the target's units. */
    public record Run(String optimizer, double valMae, History history) {}

    public record Result(double baselineMae, Run sgd, Run adam, Path curves) {}

    public static void main(String[] args) {
        ExampleMain.run("regression", "[--epochs N] [--out DIR]", args, a -> {
            Result r = run(Outputs.intFlag(a, "--epochs", 200), Outputs.folder("regression", a), true);
            System.out.printf(Locale.ROOT, "%nValidation MAE (miles per gallon): SGD %.2f, Adam %.2f; predicting the mean: %.2f%n",
                    r.sgd().valMae(), r.adam().valMae(), r.baselineMae());
            System.out.println("Learning curves: " + r.curves());
        });
    }

    public static Result run(int epochs, Path out, boolean verbose) throws IOException {
        RegressionData d = RegressionData.load("auto_mpg", "Miles_per_Gallon", 0.2, 42, "Name");
        if (verbose) System.out.printf(Locale.ROOT, "auto_mpg.csv: %d train, %d validation rows, %d features; target mean %.1f, sd %.1f%n",
                d.train().size(), d.validation().size(), d.features(), d.mean(), d.std());
        Run sgd = train("SGD (lr 0.01, momentum 0.9)", Sgd.lr(0.01).momentum(0.9), d, epochs, verbose);
        Run adam = train("Adam (lr 0.001)", Adam.lr(1e-3), d, epochs, verbose);

        Path png = out.resolve("learning-curves.png");
        sheet(sgd, adam, d.std(), d.meanBaselineMae(), epochs).write(png);
        sgd.history().toCsv(out.resolve("history-sgd.csv"));
        adam.history().toCsv(out.resolve("history-adam.csv"));
        return new Result(d.meanBaselineMae(), sgd, adam, png);
    }

    /** Loss per optimizer (train solid, validation dashed) and validation MAE in mpg; one colour per optimizer on both panels. */
    static ChartSheet sheet(Run sgd, Run adam, double std, double baseline, int epochs) {
        Chart loss = Chart.of("MAE loss (standardised target)", "epoch", "MAE").withIntegerX();
        Chart val = Chart.of("validation MAE (mpg)", "epoch", "MAE").withIntegerX();
        for (Run r : List.of(sgd, adam)) {
            double[] x = Plots.counting(r.history().epochs());
            loss = loss.line(r.optimizer() + " train", r.optimizer(), x, Plots.toArray(r.history().get("loss")))
                    .dashed(r.optimizer() + " validation", r.optimizer(), x, Plots.toArray(r.history().get("val_loss")));
            double[] v = Plots.toArray(r.history().get("val_mae"));
            for (int i = 0; i < v.length; i++) v[i] *= std;
            val = val.dashed(r.optimizer() + " validation", r.optimizer(), x, v);
        }
        val = val.rule(baseline, String.format(Locale.ROOT, "predict the mean: %.2f mpg", baseline)).xRange(1, epochs);
        return ChartSheet.of(2, 640, 440, loss.xRange(1, epochs), val);
    }

    static Model network(int features) {
        return Sequential.of(Input.shape(features), Dense.of(32).relu(), Dense.of(32).relu(), Dense.of(1)).seed(11);
    }

    private static Run train(String name, Optimizer opt, RegressionData d, int epochs, boolean verbose) {
        Model m = network(d.features());
        m.compile(opt, Loss.mae(), Metric.mae());
        if (verbose) System.out.println("\n" + name + ":");
        // 200 progress lines would drown the comparison: print a few epochs instead.
        History h = m.fit(d.train(), Fit.epochs(epochs).batchSize(128).validation(d.validation()).seed(5).verbose(false));
        double mae = m.evaluate(d.validation(), 128).get("mae") * d.std();
        if (verbose) {
            for (int e : new int[] {0, 9, 49, 99, epochs - 1}) {
                if (e < h.epochs()) System.out.printf(Locale.ROOT, "  epoch %3d: loss %.4f, val_loss %.4f%n", e + 1, h.get("loss").get(e), h.get("val_loss").get(e));
            }
            System.out.printf(Locale.ROOT, "  validation MAE %.2f mpg%n", mae);
        }
        return new Run(name, mae, h);
    }
}
