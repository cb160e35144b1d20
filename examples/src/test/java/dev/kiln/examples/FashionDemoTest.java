package dev.kiln.examples;

import dev.kiln.data.Dataset;
import dev.kiln.data.FashionMnist;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FashionDemoTest {
    @Test
    void bundledSubsetIsBalancedAndScaled() throws IOException {
        Dataset.Split s = FashionMnistSubset.load();
        assertEquals(10 * FashionMnistSubset.TRAIN_PER_CLASS, s.train().size());
        assertEquals(10 * FashionMnistSubset.TEST_PER_CLASS, s.validation().size());
        int[] train = FashionMnistSubset.classCounts(s.train()), test = FashionMnistSubset.classCounts(s.validation());
        for (int c = 0; c < 10; c++) {
            assertEquals(FashionMnistSubset.TRAIN_PER_CLASS, train[c], "train images of class " + c);
            assertEquals(FashionMnistSubset.TEST_PER_CLASS, test[c], "test images of class " + c);
        }
        float max = 0;
        for (float v : s.train().features()) max = Math.max(max, v);
        assertEquals(1f, max, 0f, "pixels are scaled to [0, 1] and some are white");
    }

    @Test
    void bundledSubsetIsRebuiltByteForByteFromTheDebianFiles(@TempDir Path tmp) throws IOException {
        var files = FashionMnist.locate();
        Assumptions.assumeTrue(files.isPresent(), "dataset-fashion-mnist is not installed: the rebuild cannot be checked here");
        FashionMnistSubset.main(new String[] {tmp.toString()});
        for (String name : FashionMnistSubset.FILES) {
            byte[] rebuilt = Files.readAllBytes(tmp.resolve(name));
            try (InputStream in = FashionMnistSubset.class.getResourceAsStream(FashionMnistSubset.RESOURCE_DIR + name)) {
                assertArrayEquals(in.readAllBytes(), rebuilt, name + " differs from a rebuild: the subset is not reproducible");
            }
        }
    }

    @Test
    void shortDemoRunOnTheSubsetLearnsAndReportsItsSpeed(@TempDir Path out) throws IOException {
        // 5000 training images, 2 epochs: 1/8 of the default run. Measured: 0.79 test accuracy (0.70 with
        // 3000 images, 0.88 after the full 8 epochs); the floor 0.75 is 7.5x chance.
        FashionDemo.Result r = FashionDemo.run(new FashionDemo.Options(false, 2, 5000, out, false));
        assertTrue(r.data().contains("subset"), r.data());
        assertEquals(5000, r.trainSize());
        assertEquals(2000, r.testSize());
        assertTrue(r.testAccuracy() >= 0.75, "test accuracy " + r.testAccuracy() + " (chance is 0.10)");
        assertTrue(r.samplesPerSecond() > 0 && r.trainSeconds() > 0);
        Images.assertPng(r.plot(), 800, 300);
        assertEquals(3, Files.readAllLines(r.csv()).size(), "header and one row per epoch");
    }
}
