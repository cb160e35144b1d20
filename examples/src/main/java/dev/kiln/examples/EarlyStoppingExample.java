package dev.kiln.examples;

import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.train.EarlyStopping;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import dev.kiln.train.Chart;
import dev.kiln.train.ChartSheet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Lesson 4, overfitting and underfitting: on diabetes.csv (442 patients), a linear model
 * underfits, a wide network trained for long overfits (its training loss keeps falling while the
 * validation loss turns up), and the same network with {@code EarlyStopping.on("val_loss")
 * .patience(10).restoreBestWeights()} stops near the turn and keeps the best epoch's weights.
 *
 * <pre>{@code ./kiln run early-stopping [--epochs N] [--out DIR]}</pre>
 */
public final class EarlyStoppingExample {
    private EarlyStoppingExample() {}

    /** One model's curves and its validation loss after training (MAE on the standardised target). */
    public record Run(String name, History history, double finalValLoss) {
        public double bestValLoss() {
            double b = Double.POSITIVE_INFINITY;
            for (double v : history.get("val_loss")) b = Math.min(b, v);
            return b;
        }
    }

    public record Result(int maxEpochs, Run underfit, Run overfit, Run early, int stoppedEpoch, int bestEpoch, double std, Path curves) {}

    public static void main(String[] args) {
        ExampleMain.run("early-stopping", "[--epochs N] [--out DIR]", args, a -> {
            Result r = run(Outputs.intFlag(a, "--epochs", 150), Outputs.folder("early-stopping", a), true);
            System.out.println("\nLearning curves: " + r.curves());
        });
    }

    public static Result run(int maxEpochs, Path out, boolean verbose) throws IOException {
        RegressionData d = RegressionData.load("diabetes", "progression", 0.25, 7);
        if (verbose) System.out.printf(Locale.ROOT, "diabetes.csv: %d train, %d validation rows; MAE loss on the standardised target (x %.1f for progression units)%n",
                d.train().size(), d.validation().size(), d.std());
        Run under = train("linear model (underfits)", Sequential.of(Input.shape(d.features()), Dense.of(1)), d, maxEpochs, null, verbose);
        Run over = train("Dense 512 x 3 ReLU (overfits)", wide(d.features()), d, maxEpochs, null, verbose);
        EarlyStopping stop = EarlyStopping.on("val_loss").patience(10).minDelta(1e-3).restoreBestWeights();
        Run early = train("Dense 512 x 3 ReLU + early stopping", wide(d.features()), d, maxEpochs, stop, verbose);
        if (verbose) {
            System.out.printf(Locale.ROOT, "Early stopping: stopped after epoch %d of %d; best epoch %d (val_loss %.4f), weights restored: val_loss now %.4f%n",
                    early.history().epochs(), maxEpochs, stop.bestEpoch() + 1, stop.best(), early.finalValLoss());
        }

        Path png = out.resolve("learning-curves.png");
        sheet(under, over, early, stop.bestEpoch() + 1, maxEpochs).write(png);
        early.history().toCsv(out.resolve("history-early-stopping.csv"));
        over.history().toCsv(out.resolve("history-overfit.csv"));
        return new Result(maxEpochs, under, over, early, stop.stoppedEpoch(), stop.bestEpoch(), d.std(), png);
    }

    /**
     * Train solid, validation dashed, one colour per run. The early-stopping run repeats the overfitting run's
     * first epochs exactly (same seed), so it is drawn first and wide, and the others thin on top of it.
     */
    static ChartSheet sheet(Run under, Run over, Run early, int bestEpoch, int maxEpochs) {
        Chart c = Chart.of("MAE on diabetes.csv (standardised target)", "epoch", "MAE").withIntegerX().xRange(1, maxEpochs);
        for (Run r : List.of(early, under, over)) {
            double[] x = Plots.counting(r.history().epochs());
            float width = r == early ? 6f : 1.6f;
            c = c.with(new Chart.Series(r.name() + " train", r.name(), x, Plots.toArray(r.history().get("loss")), Chart.Style.LINE, width))
                 .with(new Chart.Series(r.name() + " validation", r.name(), x, Plots.toArray(r.history().get("val_loss")), Chart.Style.DASHED, width));
        }
        double best = early.history().get("val_loss").get(bestEpoch - 1);
        c = c.mark(bestEpoch, best, String.format(Locale.ROOT, "best epoch %d (val %.3f)", bestEpoch, best), early.name());
        return ChartSheet.of(1, 900, 520, c);
    }

    static Model wide(int features) {
        return Sequential.of(Input.shape(features), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(1));
    }

    private static Run train(String name, Model m, RegressionData d, int epochs, EarlyStopping stop, boolean verbose) {
        m.seed(13);
        m.compile(Adam.lr(1e-3), Loss.mae(), Metric.mae());
        Fit fit = Fit.epochs(epochs).batchSize(64).validation(d.validation()).seed(4).verbose(false);
        History h = m.fit(d.train(), stop == null ? fit : fit.callbacks(stop));
        double val = m.evaluate(d.validation(), 256).get("loss");
        if (verbose) {
            List<Double> v = h.get("val_loss");
            int best = 0;
            for (int i = 1; i < v.size(); i++) if (v.get(i) < v.get(best)) best = i;
            System.out.printf(Locale.ROOT, "%-38s %3d epochs: train loss %.4f, val_loss at the end %.4f, lowest %.4f (epoch %d)%n",
                    name, h.epochs(), h.last("loss"), h.last("val_loss"), v.get(best), best + 1);
        }
        return new Run(name, h, val);
    }
}
