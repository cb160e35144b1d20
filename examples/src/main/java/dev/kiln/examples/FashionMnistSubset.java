package dev.kiln.examples;

import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import dev.kiln.data.Idx;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/**
 * The Fashion-MNIST subset bundled with the examples (so the demo runs where Debian's
 * {@code dataset-fashion-mnist} is not installed): a class-balanced, seeded sample of
 * {@value #TRAIN_PER_CLASS} training and {@value #TEST_PER_CLASS} test images per class, stored
 * as the same four IDX gzip files under {@code src/main/resources/dev/kiln/examples/fashion-mnist-subset}.
 *
 * <p>Rebuild it (reproducibly: same seed, same files) from the full data set with
 * <pre>{@code ./kiln run fashion-subset examples/src/main/resources/dev/kiln/examples/fashion-mnist-subset}</pre>
 */
public final class FashionMnistSubset {
    public static final int TRAIN_PER_CLASS = 1000, TEST_PER_CLASS = 200;
    public static final long SEED = 20_240_601L;
    static final String RESOURCE_DIR = "fashion-mnist-subset/";
    static final String[] FILES = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

    private FashionMnistSubset() {}

    /** Builds the subset from the installed full data set into {@code folder}. */
    public static void main(String[] args) {
        ExampleMain.run("fashion-subset", "FOLDER", args, a -> {
            FashionMnist.Files4 f = FashionMnist.locate().orElseThrow(() -> new IOException(FashionMnist.INSTALL_HINT));
            Path out = Files.createDirectories(Path.of(a[0]));
            write(f.trainImages(), f.trainLabels(), TRAIN_PER_CLASS, out.resolve(FILES[0]), out.resolve(FILES[1]));
            write(f.testImages(), f.testLabels(), TEST_PER_CLASS, out.resolve(FILES[2]), out.resolve(FILES[3]));
            System.out.println("wrote the Fashion-MNIST subset (" + TRAIN_PER_CLASS * 10 + " train, " + TEST_PER_CLASS * 10 + " test, seed " + SEED + ") to " + out);
        });
    }

    /** Samples {@code perClass} images of each class (seeded) and writes them, in class-interleaved order, as IDX gzip. */
    static void write(Path images, Path labels, int perClass, Path imagesOut, Path labelsOut) throws IOException {
        Idx.Array im = Idx.read(images), lb = Idx.read(labels);   // raw bytes as floats, unscaled
        float[] pixels = im.data(), y = lb.data();
        int n = lb.shape().dim(0), h = im.shape().dim(1), w = im.shape().dim(2);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom r = new SplittableRandom(SEED);
        for (int i = n - 1; i > 0; i--) { int j = r.nextInt(i + 1); int t = order[i]; order[i] = order[j]; order[j] = t; }
        int[][] picked = new int[10][perClass];
        int[] count = new int[10];
        for (int i : order) { int c = (int) y[i]; if (count[c] < perClass) picked[c][count[c]++] = i; }
        for (int c = 0; c < 10; c++) if (count[c] < perClass) throw new IOException(images + " has only " + count[c] + " images of class " + c);
        int m = 10 * perClass, px = h * w;
        byte[] outImages = new byte[m * px], outLabels = new byte[m];
        for (int k = 0; k < perClass; k++) {
            for (int c = 0; c < 10; c++) {
                int row = k * 10 + c, src = picked[c][k];
                for (int p = 0; p < px; p++) outImages[row * px + p] = (byte) Math.round(pixels[src * px + p]);
                outLabels[row] = (byte) c;
            }
        }
        writeIdx(imagesOut, new int[] {m, h, w}, outImages);
        writeIdx(labelsOut, new int[] {m}, outLabels);
    }

    private static void writeIdx(Path file, int[] dims, byte[] data) throws IOException {
        try (OutputStream os = Files.newOutputStream(file);
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new GZIPOutputStream(os, 1 << 16)))) {
            out.writeInt((Idx.UBYTE << 8) | dims.length);
            for (int d : dims) out.writeInt(d);
            out.write(data);
        }
    }

    /** The bundled subset: train and test, images [N, 28, 28, 1] in [0, 1], labels 0..9. */
    public static Dataset.Split load() throws IOException {
        Path tmp = Files.createTempDirectory("kiln-fashion-subset");
        try {
            for (String name : FILES) {
                try (InputStream in = FashionMnistSubset.class.getResourceAsStream(RESOURCE_DIR + name)) {
                    if (in == null) throw new IOException("the bundled Fashion-MNIST subset is missing from the class path (resource "
                            + RESOURCE_DIR + name + "); rebuild the examples module");
                    Files.copy(in, tmp.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Dataset train = idx(tmp.resolve(FILES[0]), tmp.resolve(FILES[1]));
            Dataset test = idx(tmp.resolve(FILES[2]), tmp.resolve(FILES[3]));
            return new Dataset.Split(train, test);
        } finally {
            for (String name : FILES) Files.deleteIfExists(tmp.resolve(name));
            Files.deleteIfExists(tmp);
        }
    }

    private static Dataset idx(Path images, Path labels) throws IOException {
        return Idx.dataset(Idx.readImages(images), Idx.readLabels(labels)).requireClassLabels(10);
    }

    /** Class counts of a labelled data set (for checks and messages). */
    static int[] classCounts(Dataset d) {
        int[] c = new int[10];
        for (int i = 0; i < d.size(); i++) c[(int) d.label(i)]++;
        return c;
    }

}
