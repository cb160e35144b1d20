package dev.kiln.examples;

import dev.kiln.backend.Backend;
import dev.kiln.data.Dataset;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Input;
import dev.kiln.nn.MaxPool2D;
import dev.kiln.nn.Model;
import dev.kiln.nn.ModelFile;
import dev.kiln.nn.Symbol;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Callback;
import dev.kiln.train.Chart;
import dev.kiln.train.ChartSheet;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import dev.kiln.train.TrainingState;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Transfer learning that runs offline ({@code ./kiln run transfer} without arguments), on the
 * Fashion-MNIST subset bundled with the examples:
 * <ol>
 * <li>pretrain a small VGG-style base (two blocks of two 3×3 convolutions and a 2×2 max-pool) with a
 *     classifier head on the five classes {@value #PRETRAIN_FIRST}–{@value #PRETRAIN_LAST} (T-shirt, trouser,
 *     pullover, dress, coat) and save the base alone as a Kiln model file;</li>
 * <li>load the base, freeze it, and put a new head on it for the five classes it never saw (sandal,
 *     shirt, sneaker, bag, ankle boot), trained on only a few examples of each;</li>
 * <li>train the same network from scratch (every layer trainable, the head starting from the same
 *     weights) on the same few examples, for the same epochs with the same optimizer;</li>
 * <li>compare both on the held-out test images of the new classes, and draw both learning curves.</li>
 * </ol>
 */
public final class TransferLesson {
    static final int PRETRAIN_FIRST = 0, PRETRAIN_LAST = 4, NEW_FIRST = 5, CLASSES = 5;

    private TransferLesson() {}

    /**
     * One run: the base's width ({@code filters} in the first block, twice that in the second), images per
     * class and epochs for pretraining and for the new task, batch size, Adam's learning rate, the seed,
     * and the output folder (base model file and PNG).
     */
    public record Options(int filters, int pretrainPerClass, int pretrainEpochs, int perClass, int epochs, int batch,
                          double learningRate, long seed, Path out) {
        public Options {
            if (filters < 1 || pretrainPerClass < 1 || perClass < 1) throw new IllegalArgumentException("--filters and the per-class counts must be at least 1");
            if (pretrainPerClass > FashionMnistSubset.TRAIN_PER_CLASS || perClass > FashionMnistSubset.TRAIN_PER_CLASS) {
                throw new IllegalArgumentException("the bundled subset has " + FashionMnistSubset.TRAIN_PER_CLASS + " training images per class; ask for at most that many");
            }
            if (pretrainEpochs < 1 || epochs < 1 || batch < 1) throw new IllegalArgumentException("--epochs, --pretrain-epochs and --batch must be at least 1");
            if (!(learningRate > 0)) throw new IllegalArgumentException("--lr must be > 0, got " + learningRate);
        }

        /**
         * The full lesson: 32 filters, all 1000 images a class for 3 epochs of pretraining, 100 a class for 10 epochs, batch 32,
         * Adam 0.001. Measured: with 16 filters the gap was 0.937 vs 0.915 (400 a class for 2 epochs: 0.923 vs 0.915); 32
         * filters widen it to 0.940 vs 0.911 in about a minute. Scratch catches up on these easy classes given more
         * epochs, the frozen base is ahead at every epoch.
         */
        public static Options lesson(Path out) { return new Options(32, 1000, 3, 100, 10, 32, 1e-3, 42, out); }
    }

    /** One model trained on the new task: its history and its final accuracy on the new classes' test images. */
    public record Run(String name, History history, double testAccuracy) {}

    /**
     * What the lesson measured: the pretrained model (base and its first head), its history and its test accuracy on the old classes, both runs on
     * the new task, whether the frozen base came out bit-identical (and how many tensors it has), the model
     * trained on it, the saved base and the picture.
     */
    public record Result(Model pretrained, History pretraining, double pretrainAccuracy, Run frozen, Run scratch, boolean baseUnchanged,
                         int frozenWeights, Model transfer, Path baseFile, Path png) {}

    /** The base: input, its output features, nothing else. */
    record Base(Symbol input, Symbol output) {}

    /** A VGG-style base for 28×28 grey images: [conv 3×3 ReLU ×2, max-pool 2×2] at {@code filters}, then at twice that. */
    static Base base(int filters) {
        Symbol in = Input.shape(28, 28, 1), x = in;
        for (int b = 1; b <= 2; b++) {
            int f = filters * b;
            x = Conv2D.of(f, 3).relu().same().named("block" + b + "_conv1").apply(x);
            x = Conv2D.of(f, 3).relu().same().named("block" + b + "_conv2").apply(x);
            x = MaxPool2D.of(2).named("block" + b + "_pool").apply(x);
        }
        return new Base(in, x);
    }

    /** {@code features} flattened under Dense 64 ReLU and a softmax over {@value #CLASSES} classes, as one model seeded by {@code seed}. */
    static Model withHead(Symbol input, Symbol features, String prefix, long seed) {
        Symbol h = Flatten.of().named(prefix + "_flatten").apply(features);
        h = Dense.of(64).relu().named(prefix + "_dense").apply(h);
        Symbol p = Dense.of(CLASSES).softmax().named(prefix + "_output").apply(h);
        return Model.of(input, p).seed(seed);
    }

    public static Result run(Options o, PrintStream out) throws IOException { return run(o, out, true, null); }

    /**
     * The lesson with its three trained models on {@code backend} (null: the default backend); with {@code chart} false
     * no PNG is drawn (a runtime without java.desktop: the GPU pack's) and the result's png is null.
     */
    public static Result run(Options o, PrintStream out, boolean chart, Backend backend) throws IOException {
        Dataset.Split all = FashionMnistSubset.load();
        Dataset oldTrain = classes(all.train(), PRETRAIN_FIRST, o.pretrainPerClass()), oldTest = classes(all.validation(), PRETRAIN_FIRST, Integer.MAX_VALUE);
        Dataset newTrain = classes(all.train(), NEW_FIRST, o.perClass()), newTest = classes(all.validation(), NEW_FIRST, Integer.MAX_VALUE);

        out.printf(Locale.ROOT, "1. Pretraining a VGG-style base (%d and %d filters) on classes %d-%d of the bundled Fashion-MNIST subset: %d images, %d epochs%n",
                o.filters(), 2 * o.filters(), PRETRAIN_FIRST, PRETRAIN_LAST, oldTrain.size(), o.pretrainEpochs());
        Base base = base(o.filters());
        Model pretrain = on(backend, withHead(base.input(), base.output(), "pretrain", o.seed()));
        pretrain.compile(Adam.lr(o.learningRate()), Loss.sparseCategoricalCrossentropy(), Metric.accuracy());
        History ph = pretrain.fit(oldTrain, fit(o, o.pretrainEpochs(), "pretrain", out));
        double pretrainAccuracy = pretrain.evaluate(oldTest, 256).get("accuracy");
        Path baseFile = o.out().resolve("fashion-base.safetensors");
        ModelFile.save(Model.of(base.input(), base.output()), baseFile);
        out.printf(Locale.ROOT, "   test accuracy on classes %d-%d: %.3f; base saved to %s%n", PRETRAIN_FIRST, PRETRAIN_LAST, pretrainAccuracy, baseFile);

        out.printf(Locale.ROOT, "2. New task: classes %d-%d, %d training images each (%d in all), tested on their %d held-out test images%n",
                NEW_FIRST, NEW_FIRST + CLASSES - 1, o.perClass(), newTrain.size(), newTest.size());
        Model loaded = ModelFile.load(baseFile);
        loaded.setTrainable(false);
        Model transfer = on(backend, withHead(loaded.inputs().get(0), loaded.outputs().get(0), "head", o.seed() + 1));
        List<Variable> frozen = loaded.weights();
        List<float[]> before = new ArrayList<>();
        for (Variable v : frozen) before.add(v.value().clone());
        long[] counts = transfer.build().parameterCounts();
        out.printf(Locale.ROOT, "   pretrained base, frozen: %,d of %,d parameters train (the new head)%n", counts[1], counts[0]);
        Run frozenRun = train("pretrained base, frozen", transfer, newTrain, newTest, o, out);
        boolean unchanged = true;
        for (int i = 0; i < frozen.size(); i++) unchanged &= Arrays.equals(before.get(i), frozen.get(i).value());
        out.println("   frozen base bit-identical after training: " + unchanged + " (" + frozen.size() + " weight tensors)");

        Base fresh = base(o.filters());
        Model scratch = on(backend, withHead(fresh.input(), fresh.output(), "head", o.seed() + 1));
        counts = scratch.build().parameterCounts();
        out.printf(Locale.ROOT, "3. The same network from scratch: all %,d parameters train, same data, epochs and optimizer%n", counts[1]);
        Run scratchRun = train("from scratch", scratch, newTrain, newTest, o, out);

        Path png = chart ? o.out().resolve("transfer.png") : null;
        if (chart) chart(frozenRun, scratchRun, newTrain.size()).write(png);
        return new Result(pretrain, ph, pretrainAccuracy, frozenRun, scratchRun, unchanged, frozen.size(), transfer, baseFile, png);
    }

    private static Model on(Backend backend, Model m) { return backend == null ? m : m.backend(backend); }

    private static Run train(String name, Model m, Dataset train, Dataset test, Options o, PrintStream out) {
        m.compile(Adam.lr(o.learningRate()), Loss.sparseCategoricalCrossentropy(), Metric.accuracy());
        History h = m.fit(train, fit(o, o.epochs(), name, out).validation(test));
        return new Run(name, h, m.evaluate(test, 256).get("accuracy"));
    }

    private static Fit fit(Options o, int epochs, String phase, PrintStream out) {
        return Fit.epochs(epochs).batchSize(o.batch()).seed(o.seed()).verbose(false).callbacks(new EpochLine(phase, epochs, out));
    }

    /** The examples of classes {@code first}..{@code first+4} (at most {@code perClass} each, in data order), relabelled 0..4. */
    static Dataset classes(Dataset d, int first, int perClass) {
        int[] taken = new int[CLASSES];
        int[] rows = new int[d.size()];
        int n = 0;
        for (int i = 0; i < d.size(); i++) {
            int c = (int) d.label(i) - first;
            if (c >= 0 && c < CLASSES && taken[c] < perClass) { taken[c]++; rows[n++] = i; }
        }
        Dataset s = d.subset(Arrays.copyOf(rows, n));
        float[] y = s.labels();
        for (int i = 0; i < y.length; i++) y[i] -= first;
        return Dataset.of(s.features(), s.featureShape(), y, s.labelShape());
    }

    /** Validation accuracy (solid) and training accuracy (dashed) of both runs, and their losses, side by side. */
    static ChartSheet chart(Run frozen, Run scratch, int trainSize) {
        Chart acc = Chart.of("accuracy on the new classes (" + trainSize + " training images)", "epoch", "accuracy").withIntegerX();
        Chart loss = Chart.of("loss (sparse categorical cross-entropy)", "epoch", "loss").withIntegerX();
        for (Run r : List.of(frozen, scratch)) {
            History h = r.history();
            double[] x = Plots.counting(h.epochs());
            acc = acc.line(String.format(Locale.ROOT, "%s: test %.3f", r.name(), r.testAccuracy()), r.name(), x, Plots.toArray(h.get("val_accuracy")))
                    .dashed(r.name() + ": training", r.name(), x, Plots.toArray(h.get("accuracy")));
            loss = loss.line(r.name() + ": test", r.name(), x, Plots.toArray(h.get("val_loss")))
                    .dashed(r.name() + ": training", r.name(), x, Plots.toArray(h.get("loss")));
        }
        int epochs = frozen.history().epochs();
        return ChartSheet.of(2, 640, 440, acc.xRange(1, epochs), loss.xRange(1, epochs));
    }

    /** Prints one line per epoch: the phase, loss and accuracy, and the validation ones when there are. */
    private record EpochLine(String phase, int epochs, PrintStream out) implements Callback {
        @Override public void onEpochEnd(TrainingState state, int epoch, Map<String, Double> logs) {
            String val = logs.containsKey("val_accuracy")
                    ? String.format(Locale.ROOT, ", test loss %.4f, test accuracy %.3f", logs.get("val_loss"), logs.get("val_accuracy")) : "";
            out.printf(Locale.ROOT, "   %s epoch %d/%d: loss %.4f, accuracy %.3f%s%n", phase, epoch + 1, epochs, logs.get("loss"), logs.get("accuracy"), val);
        }
    }
}
