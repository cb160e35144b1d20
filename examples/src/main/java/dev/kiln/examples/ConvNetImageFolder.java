package dev.kiln.examples;

import dev.kiln.data.Dataset;
import dev.kiln.data.ImageFolder;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Input;
import dev.kiln.nn.MaxPool2D;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.train.Fit;
import dev.kiln.train.History;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Computer-vision lesson: the 3-block convnet (blocks of 1, 2 and 3 convolutions with 32, 64
 * and 128 filters, 3×3 same, ReLU, each block ending in a 2×2 max-pool; then Flatten, Dense 6
 * ReLU, Dropout .2 and the classifier: model M4's body) on a folder with one sub-folder per class.
 * Without a folder it draws a small data set of two classes, bright horizontal and vertical bars on
 * dark backgrounds (random lengths, places and tints), into a temporary folder and says so.
 *
 * An image that does not decode (empty, truncated, corrupt) stops the run with one line naming it;
 * with {@code --skip-unreadable} such files are left out, and listed with the reason at the end.
 *
 * <pre>{@code ./kiln run convnet [FOLDER] [--size PIXELS] [--epochs N] [--out DIR] [--skip-unreadable]}</pre>
 */
public final class ConvNetImageFolder {
    private ConvNetImageFolder() {}

    static final String USAGE = "[FOLDER] [--size PIXELS] [--epochs N] [--out DIR] [--skip-unreadable]";

    public record Options(Path folder, int size, int perClass, int epochs, Path out, boolean verbose, boolean skipUnreadable) {
        /** Failing on the first unreadable image. */
        public Options(Path folder, int size, int perClass, int epochs, Path out, boolean verbose) {
            this(folder, size, perClass, epochs, out, verbose, false);
        }
    }

    /** What the run did; {@code skipped}: the unreadable images left out (only with {@code skipUnreadable}). */
    public record Result(String data, List<String> classes, int trainSize, int validationSize, double valAccuracy, History history, Path curves,
                         List<ImageFolder.Skipped> skipped) {}

    public static void main(String[] args) {
        ExampleMain.run("convnet", USAGE, args, a -> {
            String folder = Outputs.positional(a, "--size", "--epochs", "--out");
            int size = Outputs.intFlag(a, "--size", folder == null ? 32 : 64);
            Result r = run(new Options(folder == null ? null : Path.of(folder), size, 300, Outputs.intFlag(a, "--epochs", 6),
                    Outputs.folder("convnet", a), true, Outputs.hasFlag(a, "--skip-unreadable")));
            System.out.printf(Locale.ROOT, "%nValidation accuracy %.4f on %d images of %s%n", r.valAccuracy(), r.validationSize(), r.classes());
            System.out.println("Learning curves: " + r.curves());
            if (!r.skipped().isEmpty()) {
                System.out.println("Skipped " + r.skipped().size() + " unreadable image" + (r.skipped().size() == 1 ? "" : "s") + " (--skip-unreadable):");
                for (ImageFolder.Skipped k : r.skipped()) System.out.println("  " + k.reason());
            }
        });
    }

    /** The 3-block convnet for {@code size}×{@code size} RGB images and {@code classes} classes (a sigmoid unit for two). */
    public static Model model(int size, int classes) {
        return Sequential.of(Input.shape(size, size, 3),
                Conv2D.of(32, 3).relu().same(), MaxPool2D.of(2),
                Conv2D.of(64, 3).relu().same(), Conv2D.of(64, 3).relu().same(), MaxPool2D.of(2),
                Conv2D.of(128, 3).relu().same(), Conv2D.of(128, 3).relu().same(), Conv2D.of(128, 3).relu().same(), MaxPool2D.of(2),
                Flatten.of(), Dense.of(6).relu(), Dropout.of(0.2), classes == 2 ? Dense.of(1).sigmoid() : Dense.of(classes).softmax()).seed(31);
    }

    public static Result run(Options o) throws IOException {
        Path folder = o.folder();
        String data;
        Path generated = null;
        if (folder == null) {
            generated = Files.createTempDirectory("kiln-shapes");
            drawShapes(generated, o.perClass(), o.size(), 12);
            folder = generated;
            data = "generated " + o.perClass() + " images of horizontal and " + o.perClass() + " of vertical bars (" + o.size() + "x" + o.size()
                    + ") in " + generated + "; pass a folder with one sub-folder per class to use your own images";
        } else {
            data = "images from " + folder;
        }
        try {
            ImageFolder.Images im;
            try {
                im = ImageFolder.of(folder, o.size(), o.size()).withSkipUnreadable(o.skipUnreadable()).load();
            } catch (ImageFolder.UnreadableImageException e) {
                throw new IOException(e.getMessage() + "; replace or remove it, or pass --skip-unreadable to leave unreadable images out", e);
            }
            if (im.classes().size() < 2) throw new IOException(folder + " has one class folder (" + im.classes() + "); a classifier needs two or more");
            Dataset.Split s = im.data().split(0.2, 42);
            if (o.verbose()) System.out.printf(Locale.ROOT, "Data: %s%nClasses %s: %d train, %d validation images%n", data, im.classes(), s.train().size(), s.validation().size());
            boolean binary = im.classes().size() == 2;
            Model m = model(o.size(), im.classes().size());
            m.compile(Adam.lr(1e-3), binary ? Loss.binaryCrossentropy() : Loss.sparseCategoricalCrossentropy(), Metric.accuracy());
            if (o.verbose()) System.out.println(m.summary());
            History h = m.fit(s.train(), Fit.epochs(o.epochs()).batchSize(16).validation(s.validation()).seed(6).verbose(o.verbose()));
            double acc = m.evaluate(s.validation(), 64).get("accuracy");
            Path png = o.out().resolve("learning-curves.png");
            h.plot(png);
            h.toCsv(o.out().resolve("history.csv"));
            return new Result(data, im.classes(), s.train().size(), s.validation().size(), acc, h, png, im.skipped());
        } finally {
            if (generated != null) deleteShapes(generated);
        }
    }

    /** Writes {@code perClass} PNGs into {@code root/horizontal} and {@code root/vertical}. */
    static void drawShapes(Path root, int perClass, int size, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        for (String shape : List.of("horizontal", "vertical")) {
            Path dir = Files.createDirectories(root.resolve(shape));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = img.createGraphics();
                g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
                // Dark background, bright shape, both with a random tint: the class is in the outline, not the colour.
                Color background = tint(r, 0, 90), fill = tint(r, 160, 256);
                g.setColor(background);
                g.fillRect(0, 0, size, size);
                g.setColor(fill);
                // A bar: a third to three quarters of the image long, 2 to 5 pixels thick, anywhere.
                int length = size / 3 + r.nextInt(size * 3 / 4 - size / 3 + 1), thick = 2 + r.nextInt(4);
                int along = r.nextInt(size - length + 1), across = r.nextInt(size - thick + 1);
                if (shape.equals("horizontal")) g.fillRect(along, across, length, thick);
                else g.fillRect(across, along, thick, length);
                g.dispose();
                ImageIO.write(img, "png", dir.resolve(String.format(Locale.ROOT, "%s-%04d.png", shape, i)).toFile());
            }
        }
    }

    private static Color tint(SplittableRandom r, int from, int to) {
        return new Color(r.nextInt(from, to), r.nextInt(from, to), r.nextInt(from, to));
    }

    private static void deleteShapes(Path root) throws IOException {
        for (String shape : List.of("horizontal", "vertical")) {
            Path dir = root.resolve(shape);
            if (!Files.isDirectory(dir)) continue;
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) Files.delete(f);
            }
            Files.delete(dir);
        }
        Files.delete(root);
    }
}
