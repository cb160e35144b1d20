package dev.kiln.examples;

import dev.kiln.compile.Precision;
import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Model;
import dev.kiln.optim.Adam;
import dev.kiln.train.Fit;

import java.io.IOException;
import java.util.Locale;

/**
 * {@code ./kiln run mixed-precision}: the Fashion-MNIST convnet (M3, {@link FashionDemo#model}) trained twice from
 * the same seed, once in exact f32 and once in mixed bf16 (or fp16 with dynamic loss scaling, {@code --fp16}), and
 * the two test accuracies side by side: mixed precision should reach f32's within 0.5 points.
 *
 * <p>On the CPU the bf16 run is an exact emulation (each product's operands rounded to bf16, f32 accumulation),
 * so it shows the accuracy effect, not a speed-up: it runs somewhat slower than f32, paying for the roundings.
 *
 * <pre>{@code ./kiln run mixed-precision [--fp16] [--subset | --full] [--epochs N]}</pre>
 */
public final class MixedPrecision {
    /** The acceptance bar of issue 16: the mixed run within this many accuracy points of f32's. */
    public static final double BAR_POINTS = 0.5;

    private MixedPrecision() {}

    /** One training run's figures. */
    public record Run(Precision precision, double testAccuracy, double seconds, String lossScale) {}

    public static void main(String[] args) {
        ExampleMain.run("mixed-precision", "[--fp16] [--subset | --full] [--epochs N]", args, a -> {
            boolean full = Outputs.hasFlag(a, "--full") || (!Outputs.hasFlag(a, "--subset") && FashionMnist.locate().isPresent());
            int epochs = Outputs.intFlag(a, "--epochs", full ? FashionDemo.FULL_EPOCHS : FashionDemo.SUBSET_EPOCHS);
            Precision low = Outputs.hasFlag(a, "--fp16") ? Precision.FP16 : Precision.BF16;
            Dataset.Split data = full ? FashionMnist.load() : FashionMnistSubset.load();
            System.out.printf(Locale.ROOT, "Fashion-MNIST %s: %,d train, %,d test images; M3 convnet, %d epochs of batch 64, Adam 1e-3, seed 42%n",
                    full ? "full set" : "bundled subset", data.train().size(), data.validation().size(), epochs);
            Run f32 = train(Precision.F32, data, epochs);
            Run mixed = train(low, data, epochs);
            double gap = 100 * (f32.testAccuracy() - mixed.testAccuracy());
            System.out.printf(Locale.ROOT, "%n%-5s test accuracy %.4f  (%.1f s)%n", "f32", f32.testAccuracy(), f32.seconds());
            System.out.printf(Locale.ROOT, "%-5s test accuracy %.4f  (%.1f s)%s%n", low.name().toLowerCase(Locale.ROOT), mixed.testAccuracy(), mixed.seconds(),
                    mixed.lossScale() == null ? "" : "  " + mixed.lossScale());
            System.out.printf(Locale.ROOT, "%s is %.2f points %s f32 (bar: within %.1f) %s%n", low.name().toLowerCase(Locale.ROOT), Math.abs(gap),
                    gap >= 0 ? "below" : "above", BAR_POINTS, gap <= BAR_POINTS ? "- met" : "- NOT met");
        });
    }

    /** M3 trained in {@code precision} on the backend's default device; test accuracy and wall time. */
    public static Run train(Precision precision, Dataset.Split data, int epochs) throws IOException {
        Model model = FashionDemo.model(42);
        model.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy(), precision, Metric.accuracy());
        System.out.println("training in " + precision + " on " + model.backend().name());
        long t0 = System.nanoTime();
        model.fit(data.train(), Fit.epochs(epochs).batchSize(64).seed(1).verbose(true));
        double seconds = (System.nanoTime() - t0) / 1e9;
        double accuracy = model.evaluate(data.validation(), 256).get("accuracy");
        return new Run(precision, accuracy, seconds, model.lossScale() == null ? null : model.lossScale().toString());
    }
}
