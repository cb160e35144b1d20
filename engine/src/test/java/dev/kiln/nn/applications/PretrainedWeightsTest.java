package dev.kiln.nn.applications;

import dev.kiln.graph.Variable;
import dev.kiln.io.FloatTensor;
import dev.kiln.io.Safetensors;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Input;
import dev.kiln.nn.MaxPool2D;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Loading by layer name from the tiny Keras files (bench/python/make_vgg16_h5.py --tiny), and every way it must refuse. */
class PretrainedWeightsTest {
    @TempDir Path dir;

    Path resource(String name) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/h5/" + name)) {
            assertNotNull(in, "test resource h5/" + name);
            Path p = dir.resolve(name);
            Files.write(p, in.readAllBytes());
            return p;
        }
    }

    /** The architecture make_vgg16_h5.py --tiny describes, with Keras's layer names. */
    static Model tiny(int convFilters, String convName) {
        return Sequential.of(Input.shape(8, 8, 3),
                Conv2D.of(convFilters, 3).relu().named(convName), MaxPool2D.of(2).named("pool"),
                Flatten.of().named("flatten"), Dense.of(2).named("dense")).seed(3);
    }

    static List<float[]> snapshot(Model m) {
        List<float[]> s = new ArrayList<>();
        for (Variable v : m.weights()) s.add(v.value().clone());
        return s;
    }

    static void assertUnchanged(List<float[]> before, Model m) {
        List<Variable> now = m.weights();
        for (int i = 0; i < now.size(); i++) assertArrayEquals(before.get(i), now.get(i).value(), 0f, now.get(i).name() + " changed by a failed load");
    }

    @Test
    void h5FullModelAndSafetensorsLoadTheSameValues() throws IOException {
        Safetensors.File st = Safetensors.read(resource("tiny_keras.safetensors"));
        for (String file : List.of("tiny_keras.h5", "tiny_keras_full_model.h5", "tiny_keras.safetensors")) {
            Model m = tiny(4, "conv");
            List<String> loaded = PretrainedWeights.load(m, resource(file));
            assertEquals(List.of("conv", "dense"), loaded, file);
            for (Variable v : m.weights()) assertArrayEquals(st.floats(v.name()), v.value(), 0f, file + " " + v.name());
        }
    }

    @Test
    void shapeMismatchNamesFileLayerWeightAndBothShapes() throws IOException {
        Model m = tiny(5, "conv");
        List<float[]> before = snapshot(m);
        Path f = resource("tiny_keras.h5");
        IOException e = assertThrows(IOException.class, () -> PretrainedWeights.load(m, f));
        String msg = e.getMessage();
        for (String part : List.of(f.toString(), "layer 'conv'", "conv/kernel:0", "[3, 3, 3, 4]", "[3, 3, 3, 5]")) assertTrue(msg.contains(part), msg);
        assertUnchanged(before, m);
    }

    @Test
    void layerMissingFromTheModelIsNamed() throws IOException {
        Model m = tiny(4, "conv_renamed");
        Path f = resource("tiny_keras.h5");
        IOException e = assertThrows(IOException.class, () -> PretrainedWeights.load(m, f));
        assertTrue(e.getMessage().contains("'conv'") && e.getMessage().contains("conv_renamed"), e.getMessage());
    }

    @Test
    void vgg16RefusesAFileOfAnotherModel() throws IOException {
        Model vgg = VGG16.of(false, Shape.of(32, 32, 3));
        Path f = resource("tiny_keras.h5");
        IOException e = assertThrows(IOException.class, () -> VGG16.loadWeights(vgg, f));
        assertTrue(e.getMessage().contains("has weights for layer 'conv', which the model lacks"), e.getMessage());
    }

    @Test
    void vgg16NamesTheLayersAFileLacks() throws IOException {
        Model vgg = VGG16.of(false, Shape.of(32, 32, 3)).seed(1);
        Map<String, FloatTensor> partial = new LinkedHashMap<>();
        for (Variable v : vgg.weights()) {
            if (v.name().startsWith("block1_")) partial.put(v.name(), new FloatTensor(v.shape(), new float[v.shape().size()]));
        }
        Path f = dir.resolve("partial.safetensors");
        Safetensors.write(f, partial, Map.of());
        List<float[]> before = snapshot(vgg);
        IOException e = assertThrows(IOException.class, () -> VGG16.loadWeights(vgg, f));
        assertTrue(e.getMessage().contains("no weights for the model's layers [block2_conv1, block2_conv2, block3_conv1"), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertUnchanged(before, vgg);
    }

    @Test
    void corruptValuesAreRefusedNotLoaded() throws IOException {
        Safetensors.File st = Safetensors.read(resource("tiny_keras.safetensors"));
        Map<String, FloatTensor> t = new LinkedHashMap<>();
        for (String n : st.names()) t.put(n, st.tensor(n));
        t.get("dense/bias").data()[1] = Float.NaN;
        Path f = dir.resolve("nan.safetensors");
        Safetensors.write(f, t, Map.of());
        IOException e = assertThrows(IOException.class, () -> PretrainedWeights.load(tiny(4, "conv"), f));
        assertTrue(e.getMessage().contains("'dense/bias' holds NaN at index 1"), e.getMessage());
    }

    @Test
    void truncatedOrGarbageFilesFailNamingTheFile() throws IOException {
        byte[] full = Files.readAllBytes(resource("tiny_keras.h5"));
        List<Path> bad = new ArrayList<>();
        for (int len : new int[] {0, 7, 500, full.length / 3}) {
            Path p = dir.resolve("cut" + len + ".h5");
            Files.write(p, Arrays.copyOf(full, len));
            bad.add(p);
        }
        Path garbage = dir.resolve("weights.bin");
        Files.write(garbage, "not weights at all, just text".getBytes());
        bad.add(garbage);
        bad.add(dir.resolve("absent.h5"));
        for (Path p : bad) {
            IOException e = assertThrows(IOException.class, () -> PretrainedWeights.load(tiny(4, "conv"), p), p.toString());
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        }
    }

    @Test
    void roleNamesIgnoreKerasSuffixesAndScopes() {
        assertEquals("kernel", PretrainedWeights.role("block1_conv1/kernel:0"));
        assertEquals("bias", PretrainedWeights.role("vgg16/block1_conv1/bias:0"));
        assertEquals("kernel", PretrainedWeights.role("block1_conv1/kernel"));
        assertEquals("block1_conv1_W_1", PretrainedWeights.role("block1_conv1_W_1:0"));
    }
}
