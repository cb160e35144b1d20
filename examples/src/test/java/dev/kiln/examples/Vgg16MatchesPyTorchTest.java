package dev.kiln.examples;

import dev.kiln.cpu.CpuBackend;
import dev.kiln.graph.Variable;
import dev.kiln.io.Safetensors;
import dev.kiln.nn.Model;
import dev.kiln.nn.applications.VGG16;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The acceptance check for VGG16 weights: an H5 file in Keras layout with seeded random weights,
 * written now by bench/python/make_vgg16_h5.py, loads into Kiln's VGG16 (no top), and the features
 * of a fixed 64×64 image match PyTorch's for the same weights (fixtures/vgg16_features_64.safetensors,
 * computed in float64 by make_vgg16_h5.py --torch-fixture).
 */
class Vgg16MatchesPyTorchTest {
    /**
     * Float32 through 13 convolutions (reductions of up to 4608 products each) against a float64
     * reference: rounding grows to about 1e-6 relative per layer; 1e-4 of the largest feature leaves
     * margin for a different summation order (GEMM blocking, TF32 off) and fails on any layout error.
     */
    static final double TOLERANCE = 1e-4;

    @Test
    void featuresOfAFixedImageMatchPyTorch(@TempDir Path dir) throws Exception {
        KerasWeightsScript.assumeH5py();
        Safetensors.File fx;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/vgg16_features_64.safetensors")) {
            assertNotNull(in, "fixture vgg16_features_64.safetensors (bench/python/make_vgg16_h5.py --torch-fixture)");
            fx = Safetensors.read("vgg16_features_64.safetensors", in.readAllBytes());
        }
        long seed = Long.parseLong(fx.metadata().get("seed"));
        int size = Integer.parseInt(fx.metadata().get("size"));
        Path h5 = KerasWeightsScript.writeVgg16(dir.resolve("vgg16_notop.h5"), seed);

        // the CPU backend: exact float32 (a GPU's default TF32 convolutions round inputs to 10 bits)
        Model vgg = VGG16.of(false, Shape.of(size, size, 3)).backend(new CpuBackend());
        List<String> loaded = VGG16.loadWeights(vgg, h5);
        assertEquals(13, loaded.size(), "convolutions loaded: " + loaded);
        double sum = 0;
        for (Variable v : vgg.weights()) for (float x : v.value()) sum += x;
        double expectedSum = Double.parseDouble(fx.metadata().get("weights_sum"));
        assertEquals(expectedSum, sum, 1e-6 * Math.max(1, Math.abs(expectedSum)),
                "the generated weights differ from those the fixture was computed with (another numpy stream?)");

        float[] features = vgg.predict(fx.floats("image"), 1);
        float[] expected = fx.floats("features");
        assertEquals(Shape.of(1, 2, 2, 512), fx.shape("features"));
        assertEquals(expected.length, features.length);
        double maxAbs = 0, maxErr = 0, maxRel = 0;
        for (float e : expected) maxAbs = Math.max(maxAbs, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(features[i] - expected[i]);
            maxErr = Math.max(maxErr, err);
            maxRel = Math.max(maxRel, err / Math.max(Math.abs(expected[i]), 1e-3 * maxAbs));
        }
        System.out.printf("VGG16 vs PyTorch (64x64, seed %d): max |error| %.3g, max |feature| %.3g, relative to the largest %.3g, elementwise relative %.3g%n",
                seed, maxErr, maxAbs, maxErr / maxAbs, maxRel);
        assertTrue(maxAbs > 0.1, "features should not be all zero: max " + maxAbs);
        assertTrue(maxErr <= TOLERANCE * maxAbs, "max error " + maxErr + " exceeds " + TOLERANCE + " of the largest feature " + maxAbs);
    }
}
