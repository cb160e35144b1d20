package dev.kiln.examples;

import dev.kiln.data.CourseData;
import dev.kiln.data.Csv;
import dev.kiln.data.CsvSpec;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.BatchNormalization;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.train.Fit;
import dev.kiln.train.History;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Lesson 5, dropout and batch normalisation: a binary classifier (model M2: BN, Dense 256 ReLU,
 * BN, Dropout .3, Dense 256 ReLU, BN, Dropout .3, Dense 1 sigmoid; binary cross-entropy, Adam)
 * on breast_cancer.csv. The features are left unscaled (areas near 1000 beside smoothness near
 * 0.1): the first BatchNormalization layer standardises them, as the lesson shows.
 *
 * <pre>{@code ./kiln run dropout-bn [--epochs N] [--out DIR]}</pre>
 */
public final class DropoutBatchNorm {
    private DropoutBatchNorm() {}

    public record Result(double valAccuracy, double valLoss, double majorityAccuracy, History history, Path curves) {}

    public static void main(String[] args) {
        ExampleMain.run("dropout-bn", "[--epochs N] [--out DIR]", args, a -> {
            Result r = run(Outputs.intFlag(a, "--epochs", 40), Outputs.folder("dropout-bn", a), true);
            System.out.printf(Locale.ROOT, "%nValidation binary accuracy %.4f (always guessing the majority class: %.4f), val_loss %.4f%n",
                    r.valAccuracy(), r.majorityAccuracy(), r.valLoss());
            System.out.println("Learning curves: " + r.curves());
        });
    }

    public static Model model(int features) {
        return Sequential.of(Input.shape(features),
                BatchNormalization.of(), Dense.of(256).relu(), BatchNormalization.of(), Dropout.of(0.3),
                Dense.of(256).relu(), BatchNormalization.of(), Dropout.of(0.3), Dense.of(1).sigmoid()).seed(21);
    }

    public static Result run(int epochs, Path out, boolean verbose) throws IOException {
        CsvSpec.CsvData d = CsvSpec.of().withTarget("benign").withStandardize(false).load(Csv.read(CourseData.csv("breast_cancer")), 0.25, 3);
        if (verbose) System.out.printf(Locale.ROOT, "breast_cancer.csv: %d train, %d validation rows, %d unscaled features%n",
                d.train().size(), d.validation().size(), d.train().featuresPerExample());
        Model m = model(d.train().featuresPerExample());
        m.compile(Adam.lr(1e-3), Loss.binaryCrossentropy(), Metric.binaryAccuracy());
        if (verbose) System.out.println(m.summary());
        History h = m.fit(d.train(), Fit.epochs(epochs).batchSize(32).validation(d.validation()).seed(8).verbose(verbose));
        Map<String, Double> eval = m.evaluate(d.validation(), 256);
        int ones = 0;
        for (int i = 0; i < d.validation().size(); i++) if (d.validation().label(i) > 0.5f) ones++;
        double majority = Math.max(ones, d.validation().size() - ones) / (double) d.validation().size();
        Path png = out.resolve("learning-curves.png");
        h.plot(png);
        h.toCsv(out.resolve("history.csv"));
        return new Result(eval.get("binary_accuracy"), eval.get("loss"), majority, h, png);
    }
}
