package dev.kiln.io;

import dev.kiln.tensor.Shape;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A Keras HDF5 weights file, read with jhdf (pure Java): the layout of Keras 2's
 * {@code model.save_weights("x.h5")} (root attribute {@code layer_names}; one group per layer whose
 * attribute {@code weight_names} lists datasets such as {@code block1_conv1/kernel:0}) and of
 * {@code model.save("x.h5")}, where the same groups sit under a top-level {@code model_weights} group.
 * Keras's own VGG16 files ({@code vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5}) have this layout.
 * Keras 3's {@code .weights.h5} layout (layers/…/vars/0) is not this one and is rejected by name.
 *
 * <p>Every failure is an {@link IOException} naming the file and, where there is one, the layer and
 * weight: errors jhdf raises on a corrupt or truncated file are wrapped, not leaked. Shapes are read
 * before data and data only on request, so callers check a weight's shape against what they expect
 * before its values are allocated; dimensions and attribute sizes are bounded by the file size, so a
 * mutated header cannot ask for gigabytes.
 *
 * <pre>{@code
 * try (KerasH5 f = KerasH5.open(Path.of("vgg16_notop.h5"))) {
 *     for (String layer : f.layerNames())
 *         for (String w : f.weightNames(layer)) System.out.println(w + " " + f.shape(layer, w));
 * }
 * }</pre>
 */
public final class KerasH5 implements AutoCloseable {
    /** The 8-byte HDF5 signature at offset 0 (files with a user block put it at 512, 1024, …; Keras never does). */
    static final byte[] SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    /** No Keras model has a million layers or weights per layer; more is a corrupt attribute. */
    private static final long MAX_NAMES = 1_000_000;

    private final String source;
    private final HdfFile file;
    private final long fileBytes;
    private final Group root;
    private final List<String> layerNames;

    private KerasH5(String source, HdfFile file, long fileBytes) throws IOException {
        this.source = source;
        this.file = file;
        this.fileBytes = fileBytes;
        this.root = guard("reading the root group", () -> {
            Node weights = file.getChildren().get("model_weights");
            return weights instanceof Group g ? g : file;
        });
        this.layerNames = strings(root, "layer_names", "the file");
    }

    /** Opens a file on disk; nothing but the header and the layer list is read yet. */
    public static KerasH5 open(Path path) throws IOException {
        String source = path.toString();
        long size = Files.size(path);
        byte[] head;
        try (var in = Files.newInputStream(path)) { head = in.readNBytes(SIGNATURE.length); }
        checkSignature(source, size, head);
        HdfFile f = guardStatic(source, "opening", () -> new HdfFile(path));
        try {
            return new KerasH5(source, f, size);
        } catch (IOException | RuntimeException | Error e) {
            f.close();
            throw e;
        }
    }

    /** Reads a file held in memory; {@code source} names it in errors. */
    public static KerasH5 read(String source, byte[] bytes) throws IOException {
        checkSignature(source, bytes.length, Arrays.copyOf(bytes, Math.min(bytes.length, SIGNATURE.length)));
        HdfFile f = guardStatic(source, "opening", () -> HdfFile.fromBytes(bytes));
        return new KerasH5(source, f, bytes.length);
    }

    /** Whether {@code head} (a file's first bytes) starts with the HDF5 signature. */
    public static boolean isHdf5(byte[] head) {
        return head.length >= SIGNATURE.length && Arrays.equals(Arrays.copyOf(head, SIGNATURE.length), SIGNATURE);
    }

    private static void checkSignature(String source, long size, byte[] head) throws IOException {
        if (size < 64) throw new IOException(source + ": " + size + " bytes is too short for an HDF5 file (truncated?)");
        if (!isHdf5(head)) throw new IOException(source + ": not an HDF5 file (the signature \\x89HDF\\r\\n\\x1a\\n is missing at offset 0)");
    }

    /** The file's name or path, as errors quote it. */
    public String source() { return source; }

    /** Every layer the file lists, weightless ones (input, pooling, flatten) included, in model order. */
    public List<String> layerNames() { return layerNames; }

    /** The weights of {@code layer} in the file's order (e.g. "block1_conv1/kernel:0", ".../bias:0"); empty for weightless layers. */
    public List<String> weightNames(String layer) throws IOException {
        return strings(layerGroup(layer), "weight_names", "layer '" + layer + "'");
    }

    /** A weight's shape, read without its values. */
    public Shape shape(String layer, String weight) throws IOException {
        Dataset d = dataset(layer, weight);
        int[] dims = guard("reading the shape of " + where(layer, weight), d::getDimensions);
        if (dims.length == 0) throw new IOException(source + ": " + where(layer, weight) + " is a scalar, not a weight tensor");
        long n = 1;
        for (int x : dims) {
            if (x < 1) throw new IOException(source + ": " + where(layer, weight) + " has dimensions " + Arrays.toString(dims) + " (corrupt file?)");
            n *= x;
            if (n > fileBytes) throw new IOException(source + ": " + where(layer, weight) + " claims dimensions " + Arrays.toString(dims) + ", more values than the " + fileBytes + "-byte file holds (corrupt file?)");
        }
        return Shape.of(dims);
    }

    /**
     * A weight's values as float32, row-major. Float64 data is rounded; any other type is rejected.
     * Call {@link #shape} first to check the size: this allocates what the file's shape says.
     */
    public float[] floats(String layer, String weight) throws IOException {
        Shape shape = shape(layer, weight);
        Dataset d = dataset(layer, weight);
        Object flat = guard("reading " + where(layer, weight), () -> {
            Class<?> t = d.getJavaType();
            if (t != float.class && t != double.class) return t;
            return d.getDataFlat();
        });
        float[] out = switch (flat) {
            case float[] f -> f;
            case double[] ds -> {
                float[] f = new float[ds.length];
                for (int i = 0; i < ds.length; i++) f[i] = (float) ds[i];
                yield f;
            }
            case Class<?> c -> throw new IOException(source + ": " + where(layer, weight) + " holds " + c.getSimpleName() + " values; weights must be float32 or float64");
            default -> throw new IOException(source + ": " + where(layer, weight) + " holds " + flat.getClass().getSimpleName() + "; weights must be float32 or float64");
        };
        if (out.length != shape.size()) throw new IOException(source + ": " + where(layer, weight) + " has shape " + shape + " but " + out.length + " values (corrupt file?)");
        return out;
    }

    @Override public void close() {
        try {
            file.close();
        } catch (RuntimeException e) {
            // closing a corrupt file can fail inside jhdf; the file is released either way and the
            // error the caller cares about (why reading failed) has already been thrown
        }
    }

    private static String where(String layer, String weight) { return "layer '" + layer + "' weight '" + weight + "'"; }

    private Group layerGroup(String layer) throws IOException {
        Node n = guard("finding layer '" + layer + "'", () -> root.getChildren().get(layer));
        if (n == null) throw new IOException(source + ": lists layer '" + layer + "' in layer_names but has no group for it (corrupt or truncated file?)");
        if (!(n instanceof Group g)) throw new IOException(source + ": layer '" + layer + "' is not a group (corrupt file?)");
        return g;
    }

    private Dataset dataset(String layer, String weight) throws IOException {
        Group g = layerGroup(layer);
        Node n = guard("finding " + where(layer, weight), () -> g.getByPath(weight));
        if (!(n instanceof Dataset d)) throw new IOException(source + ": " + where(layer, weight) + " is not a dataset (corrupt file?)");
        return d;
    }

    /** A string-array attribute (h5py writes fixed-length byte strings); empty or float64-empty means none. */
    private List<String> strings(Group g, String attribute, String owner) throws IOException {
        Object data = guard("reading attribute '" + attribute + "' of " + owner, () -> {
            Attribute a = g.getAttribute(attribute);
            if (a == null) return null;
            if (a.isEmpty() || a.getSize() == 0) return new String[0];
            if (a.getSize() > MAX_NAMES || a.getSize() > fileBytes) return a.getSize();
            return a.getData();
        });
        if (data == null) {
            String hint = attribute.equals("layer_names")
                    ? " — this is not a Keras 2 HDF5 weights file (a Keras 3 '.weights.h5' file? save with the legacy h5 format, or convert to safetensors)"
                    : "";
            throw new IOException(source + ": " + owner + " has no '" + attribute + "' attribute" + hint);
        }
        return switch (data) {
            case Long n -> throw new IOException(source + ": attribute '" + attribute + "' of " + owner + " claims " + n + " entries (corrupt file?)");
            case String[] s -> {
                List<String> names = new ArrayList<>(s.length);
                for (String x : s) {
                    if (x == null) throw new IOException(source + ": attribute '" + attribute + "' of " + owner + " has a missing entry (corrupt file?)");
                    names.add(x);
                }
                yield List.copyOf(names);
            }
            case String s -> List.of(s);
            case double[] d when d.length == 0 -> List.of();
            case float[] f when f.length == 0 -> List.of();
            default -> throw new IOException(source + ": attribute '" + attribute + "' of " + owner + " holds " + data.getClass().getSimpleName() + ", not strings (corrupt file?)");
        };
    }

    private interface Read<T> { T get(); }

    private <T> T guard(String what, Read<T> read) throws IOException { return guardStatic(source, what, read); }

    /**
     * Runs one jhdf call and turns whatever a corrupt file makes it throw into an IOException naming
     * the file. jhdf signals corruption with HdfException but also with BufferUnderflow,
     * IndexOutOfBounds, NegativeArraySize and the like; a size field mutated to billions can make it
     * request one huge array (OutOfMemoryError, which fails that allocation alone) and a cyclic
     * structure can recurse without end (StackOverflowError). All are "this file is corrupt".
     */
    private static <T> T guardStatic(String source, String what, Read<T> read) throws IOException {
        try {
            return read.get();
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
            if (msg.length() > 300) msg = msg.substring(0, 300) + "…";
            throw new IOException(source + ": corrupt, truncated or unsupported HDF5 file (" + what + " failed: " + msg + ")", e);
        }
    }
}
