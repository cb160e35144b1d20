package dev.kiln.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Finds Fashion-MNIST as installed by Debian's {@code dataset-fashion-mnist} package (IDX gzip
 * files under /usr/share/datasets/fashion-mnist). Nothing is downloaded.
 *
 * <pre>{@code
 * Dataset.Split d = FashionMnist.load();   // 60000 train, 10000 test; or an error saying how to install
 * }</pre>
 */
public final class FashionMnist {
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    public static final String INSTALL_HINT = "Fashion-MNIST is not installed; run `apt-get install -y dataset-fashion-mnist`"
            + " (Debian/Ubuntu), or pass the folder holding train-images-idx3-ubyte.gz to FashionMnist.locate(Path)";
    private static final List<Path> SEARCH = List.of(Path.of("/usr/share/datasets/fashion-mnist"), Path.of("/usr/share/dataset-fashion-mnist"),
            Path.of("/usr/share/fashion-mnist"));

    private FashionMnist() {}

    /** The four files of the dataset. */
    public record Files4(Path trainImages, Path trainLabels, Path testImages, Path testLabels) {}

    /** The Debian package's files, when installed. */
    public static Optional<Files4> locate() {
        for (Path p : SEARCH) {
            Optional<Files4> f = locate(p);
            if (f.isPresent()) return f;
        }
        return Optional.empty();
    }

    /** The four files in {@code folder} (gzip or raw names), when all are there. */
    public static Optional<Files4> locate(Path folder) {
        Path[] f = new Path[4];
        String[] names = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
        for (int i = 0; i < 4; i++) {
            Path gz = folder.resolve(names[i] + ".gz"), raw = folder.resolve(names[i]);
            if (Files.isReadable(gz)) f[i] = gz;
            else if (Files.isReadable(raw)) f[i] = raw;
            else return Optional.empty();
        }
        return Optional.of(new Files4(f[0], f[1], f[2], f[3]));
    }

    /** Train (60000) and test (10000) sets: images [N, 28, 28, 1] in [0, 1], labels [N] in 0..9. */
    public static Dataset.Split load() throws IOException {
        Files4 f = locate().orElseThrow(() -> new IOException(INSTALL_HINT));
        Dataset train = Idx.dataset(Idx.readImages(f.trainImages()), Idx.readLabels(f.trainLabels())).requireClassLabels(10);
        Dataset test = Idx.dataset(Idx.readImages(f.testImages()), Idx.readLabels(f.testLabels())).requireClassLabels(10);
        return new Dataset.Split(train, test);
    }
}
