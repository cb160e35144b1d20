package dev.kiln.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The Keras HDF5 reader on files h5py wrote (bench/python/make_vgg16_h5.py --tiny), checked against a safetensors copy. */
class KerasH5Test {
    static byte[] resource(String name) {
        try (InputStream in = KerasH5Test.class.getResourceAsStream("/h5/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource h5/" + name + "; see bench/python/make_vgg16_h5.py");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path copy(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, resource(name));
        return p;
    }

    @Test
    void listsKerasLayersAndWeightNamesInOrder(@TempDir Path dir) throws IOException {
        try (KerasH5 f = KerasH5.open(copy(dir, "tiny_keras.h5"))) {
            assertEquals(List.of("input_1", "conv", "pool", "flatten", "dense"), f.layerNames());
            assertEquals(List.of("conv/kernel:0", "conv/bias:0"), f.weightNames("conv"));
            assertEquals(List.of(), f.weightNames("pool"));
            assertEquals(dev.kiln.tensor.Shape.of(3, 3, 3, 4), f.shape("conv", "conv/kernel:0"));
            assertEquals(dev.kiln.tensor.Shape.of(36, 2), f.shape("dense", "dense/kernel:0"));
        }
    }

    @Test
    void valuesEqualTheSafetensorsCopyBitForBit(@TempDir Path dir) throws IOException {
        Safetensors.File st = Safetensors.read("tiny_keras.safetensors", resource("tiny_keras.safetensors"));
        for (String file : List.of("tiny_keras.h5", "tiny_keras_full_model.h5")) {
            try (KerasH5 f = KerasH5.open(copy(dir, file))) {
                for (String layer : List.of("conv", "dense")) {
                    for (String w : f.weightNames(layer)) {
                        float[] expected = st.floats(w.substring(0, w.indexOf(':')));
                        assertArrayEquals(expected, f.floats(layer, w), 0f, file + " " + w);
                    }
                }
            }
        }
    }

    @Test
    void readsFromMemoryLikeFromDisk() throws IOException {
        try (KerasH5 f = KerasH5.read("mem.h5", resource("tiny_keras.h5"))) {
            assertEquals(4, f.floats("conv", "conv/bias:0").length);
        }
    }

    @Test
    void truncatedFileFailsNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] full = resource("tiny_keras.h5");
        for (int len : new int[] {0, 10, 100, 800, 2048, full.length / 2}) {
            Path p = dir.resolve("cut" + len + ".h5");
            Files.write(p, Arrays.copyOf(full, len));
            IOException e = assertThrows(IOException.class, () -> {
                try (KerasH5 f = KerasH5.open(p)) {
                    for (String layer : f.layerNames()) for (String w : f.weightNames(layer)) f.floats(layer, w);
                }
            }, "truncated to " + len + " bytes");
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        }
    }

    @Test
    void notHdf5IsNamedAsSuch(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("x.h5");
        Files.write(p, new byte[200]);
        IOException e = assertThrows(IOException.class, () -> KerasH5.open(p));
        assertTrue(e.getMessage().contains("not an HDF5 file"), e.getMessage());
    }
}
