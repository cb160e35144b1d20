package dev.kiln.examples;

import dev.kiln.data.Dataset;
import dev.kiln.data.ImageFolder;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.GlobalAveragePooling2D;
import dev.kiln.nn.Model;
import dev.kiln.nn.Symbol;
import dev.kiln.nn.applications.VGG16;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;
import dev.kiln.train.History;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Transfer learning. Without {@code --weights}, the offline lesson ({@link TransferLesson}): a small VGG-style
 * base pretrained here on five Fashion-MNIST classes, frozen under a new head for the five others (100
 * images each), against the same network trained from scratch; both learning curves in
 * {@code kiln-out/transfer/transfer.png}. Options: {@code --epochs N} (new task, default 10), {@code --per-class N}
 * (default 100), {@code --pretrain-epochs N} (3), {@code --pretrain-per-class N} (1000), {@code --filters N} (32),
 * {@code --batch N} (32), {@code --lr X} (0.001), {@code --seed N}, {@code --out DIR}.
 *
 * <p>With {@code --weights FILE}: a VGG16 base with pretrained ImageNet weights, frozen, under a new binary head
 * (global average pooling, Dense 256 ReLU, Dropout 0.5, Dense 1 sigmoid), trained on a folder of
 * images with two class sub-folders.
 *
 * <pre>
 * ./kiln run transfer
 * ./kiln run transfer --weights vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 --images car-or-truck/train
 * </pre>
 *
 * VGG16 options: {@code --weights FILE} (Keras HDF5 or safetensors, see {@link VGG16#loadWeights}),
 * {@code --images DIR} (two sub-folders, one per class; without it a small synthetic folder of
 * horizontal vs vertical stripes is generated), {@code --size N} (images resized to N×N, default 64,
 * at least 32), {@code --epochs N} (default 5), {@code --batch N} (default 16), {@code --lr X} (Adam, default 0.001), {@code --seed N}.
 * Nothing is downloaded.
 */
public final class TransferLearning {
    private TransferLearning() {}

    /**
     * What a run did: the history; the loss on the training images in inference mode (no dropout)
     * before and after training; validation metrics; how many weight tensors were frozen and whether
     * they came out unchanged; the class names (label 0, 1).
     */
    public record Result(History history, double trainLossBefore, double trainLossAfter, Map<String, Double> validation,
                         int frozenWeights, boolean baseUnchanged, List<String> classes) {}

    /** The options of one run; see the class comment. */
    public record Options(Path weights, Path images, int size, int epochs, int batch, double learningRate, long seed) {
        public Options {
            if (size < VGG16.MIN_SIZE) throw new IllegalArgumentException("--size " + size + ": VGG16 needs images of at least " + VGG16.MIN_SIZE + "x" + VGG16.MIN_SIZE);
            if (epochs < 1 || batch < 1) throw new IllegalArgumentException("--epochs and --batch must be at least 1");
            if (!(learningRate > 0)) throw new IllegalArgumentException("--lr must be > 0, got " + learningRate);
        }
    }

    static final String NO_WEIGHTS = """
            needs VGG16 weights: pass --weights FILE (nothing is downloaded)
              A Keras HDF5 file of VGG16 without its top, e.g. Keras's own
                vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5
              (in Python: keras.applications.VGG16(include_top=False).save_weights("vgg16_notop.h5")
               with Keras 2 / tf.keras, or find it in ~/.keras/models/ after Keras downloaded it once),
              or a safetensors file with tensors named block1_conv1/kernel, block1_conv1/bias, ...
              For a quick run without pretrained weights, write random ones:
                /usr/bin/python3 bench/python/make_vgg16_h5.py /tmp/vgg16_random.h5   (needs python3-h5py)""";

    static final String USAGE = "[--weights FILE [--images DIR] [--size N]] [--epochs N] [--batch N] [--lr X] [--seed N]"
            + " [--pretrain-epochs N] [--pretrain-per-class N] [--per-class N] [--filters N] [--out DIR]";

    public static void main(String[] args) {
        System.exit(cli(args, System.out, System.err));
    }

    /**
     * The command line (see {@link ExampleMain}): without {@code --weights}, the offline lesson ({@link TransferLesson});
     * with it, the VGG16 path. 0 on success, 2 for a usage error, 1 when the input is bad.
     */
    public static int cli(String[] args, PrintStream out, PrintStream err) {
        return ExampleMain.status("transfer", USAGE, args, err, a -> {
            Map<String, String> opt = new HashMap<>();
            for (int i = 0; i < a.length; i += 2) opt.put(a[i], a[i + 1]);   // ExampleMain checked every option and its value
            if (opt.containsKey("--weights")) {
                for (String lessonOnly : List.of("--pretrain-epochs", "--pretrain-per-class", "--per-class", "--filters", "--out")) {
                    if (opt.containsKey(lessonOnly)) throw new ExampleMain.CommandLineException(lessonOnly + " belongs to the offline lesson (without --weights)");
                }
                run(new Options(Path.of(opt.get("--weights")), opt.containsKey("--images") ? Path.of(opt.get("--images")) : null, number(opt, "--size", 64),
                        number(opt, "--epochs", 5), number(opt, "--batch", 16), real(opt, "--lr", 1e-3), whole(opt, "--seed", 42)), out);
                return;
            }
            for (String vggOnly : List.of("--images", "--size")) {
                if (opt.containsKey(vggOnly)) throw new ExampleMain.CommandLineException(vggOnly + " belongs to the VGG16 path: give --weights FILE too\n" + NO_WEIGHTS);
            }
            TransferLesson.Options d = TransferLesson.Options.lesson(Outputs.folder("transfer", a));
            var o = new TransferLesson.Options(number(opt, "--filters", d.filters()), number(opt, "--pretrain-per-class", d.pretrainPerClass()),
                    number(opt, "--pretrain-epochs", d.pretrainEpochs()), number(opt, "--per-class", d.perClass()), number(opt, "--epochs", d.epochs()),
                    number(opt, "--batch", d.batch()), real(opt, "--lr", d.learningRate()), whole(opt, "--seed", d.seed()), d.out());
            out.println("No --weights given: the offline lesson, a base pretrained here on Fashion-MNIST (for ImageNet VGG16 weights, see --weights).");
            long t0 = System.nanoTime();
            TransferLesson.Result r = TransferLesson.run(o, out);
            out.printf(Locale.ROOT, "%nTest accuracy on the new classes after %d epochs: pretrained base, frozen %.3f; from scratch %.3f (%.1f s in all)%n",
                    o.epochs(), r.frozen().testAccuracy(), r.scratch().testAccuracy(), (System.nanoTime() - t0) / 1e9);
            out.println("Learning curves: " + r.png());
        });
    }

    private static int number(Map<String, String> opt, String flag, int fallback) {
        long v = whole(opt, flag, fallback);
        if (v != (int) v) throw new ExampleMain.CommandLineException(flag + " " + v + " is too large");
        return (int) v;
    }

    private static long whole(Map<String, String> opt, String flag, long fallback) {
        String v = opt.get(flag);
        return v == null ? fallback : parsed(flag, v, "a whole number", Long::parseLong);
    }

    private static double real(Map<String, String> opt, String flag, double fallback) {
        String v = opt.get(flag);
        return v == null ? fallback : parsed(flag, v, "a number", Double::parseDouble);
    }

    private static <T> T parsed(String flag, String value, String kind, Function<String, T> parse) {
        try {
            return parse.apply(value);
        } catch (NumberFormatException e) {
            throw new ExampleMain.CommandLineException(flag + " needs " + kind + ", got '" + value + "'", e);
        }
    }

    /** Loads the weights, builds base + head, freezes the base, trains the head, and prints what it shows. */
    public static Result run(Options o, PrintStream out) throws IOException {
        Path folder = o.images();
        if (folder == null) {
            folder = Files.createTempDirectory("kiln-stripes");
            writeSyntheticImages(folder, 24, o.size(), o.seed());
            out.println("No --images given: generated " + 2 * 24 + " synthetic images (horizontal vs vertical stripes) in " + folder);
        }
        ImageFolder.Images im = ImageFolder.of(folder, o.size(), o.size()).load();
        if (im.classes().size() != 2) throw new IOException(folder + ": needs exactly two class sub-folders for this binary head, found " + im.classes());
        Dataset all = im.data();
        float[] x = all.features();
        VGG16.preprocess(x, true);   // [0, 1] RGB → Keras's caffe-style BGR, mean-centred, as the weights expect
        Dataset data = Dataset.of(x, all.featureShape(), all.labels(), all.labelShape());
        Dataset.Split split = data.split(0.25, o.seed());
        out.printf("Images: %d training, %d validation, classes %s (label 0, 1), %dx%d%n",
                split.train().size(), split.validation().size(), im.classes(), o.size(), o.size());

        // the base, frozen before the model exists so its weights are created non-trainable
        VGG16.Base base = VGG16.base(Shape.of(o.size(), o.size(), 3)).setTrainable(false);
        Symbol h = GlobalAveragePooling2D.of().apply(base.output());
        h = Dense.of(256).relu().named("head_dense").apply(h);
        h = Dropout.of(0.5).named("head_dropout").apply(h);
        Symbol p = Dense.of(1).sigmoid().named("head_output").apply(h);
        Model model = Model.of(base.input(), p).seed(o.seed());
        List<String> loaded = VGG16.loadWeights(model, o.weights());
        out.println("Loaded " + loaded.size() + " VGG16 layers from " + o.weights());

        List<Variable> frozen = new ArrayList<>();
        for (var l : base.layers()) frozen.addAll(l.weights());
        List<float[]> before = new ArrayList<>();
        for (Variable v : frozen) before.add(v.value().clone());

        model.compile(Adam.lr(o.learningRate()), Loss.binaryCrossentropy(), Metric.binaryAccuracy());
        long[] counts = model.parameterCounts();
        out.printf("Parameters: %,d total, %,d trainable (the head), %,d frozen (the VGG16 base)%n", counts[0], counts[1], counts[0] - counts[1]);
        double before0 = model.evaluate(split.train(), o.batch()).get("loss");
        History history = model.fit(split.train(), Fit.epochs(o.epochs()).batchSize(o.batch()).validation(split.validation()).seed(o.seed()).verbose(false));
        for (int e = 0; e < history.epochs(); e++) {
            out.printf("epoch %d: loss %.4f, accuracy %.3f, val_loss %.4f, val_accuracy %.3f%n", e + 1,
                    history.get("loss").get(e), at(history, "binary_accuracy", e), at(history, "val_loss", e), at(history, "val_binary_accuracy", e));
        }
        double after = model.evaluate(split.train(), o.batch()).get("loss");
        out.printf("Training-set loss without dropout: %.4f before, %.4f after training the head%n", before0, after);
        Map<String, Double> val = model.evaluate(split.validation(), o.batch());
        boolean unchanged = true;
        for (int i = 0; i < frozen.size(); i++) unchanged &= java.util.Arrays.equals(before.get(i), frozen.get(i).value());
        out.println("Validation: " + val);
        out.println("Frozen base unchanged by training: " + unchanged + " (" + frozen.size() + " weight tensors)");
        return new Result(history, before0, after, val, frozen.size(), unchanged, im.classes());
    }

    private static double at(History h, String key, int epoch) { return h.has(key) ? h.get(key).get(epoch) : Double.NaN; }

    /**
     * Writes {@code perClass} PNG images of each class to {@code dir}/horizontal and {@code dir}/vertical:
     * stripes of random period, phase and colours with noise, {@code size}×{@code size}.
     */
    public static void writeSyntheticImages(Path dir, int perClass, int size, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        for (String cls : List.of("horizontal", "vertical")) {
            Path d = Files.createDirectories(dir.resolve(cls));
            for (int n = 0; n < perClass; n++) {
                BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
                double period = 4 + r.nextDouble() * 8, phase = r.nextDouble() * period;
                int[] c0 = {r.nextInt(256), r.nextInt(256), r.nextInt(256)}, c1 = {r.nextInt(256), r.nextInt(256), r.nextInt(256)};
                for (int yy = 0; yy < size; yy++) {
                    for (int xx = 0; xx < size; xx++) {
                        int t = cls.equals("horizontal") ? yy : xx;
                        boolean on = ((t + phase) % period) < period / 2;
                        int[] c = on ? c1 : c0;
                        int rgb = 0;
                        for (int k = 0; k < 3; k++) rgb = (rgb << 8) | Math.clamp(c[k] + r.nextInt(41) - 20, 0, 255);
                        img.setRGB(xx, yy, rgb);
                    }
                }
                ImageIO.write(img, "png", d.resolve(cls + "_" + n + ".png").toFile());
            }
        }
    }
}
