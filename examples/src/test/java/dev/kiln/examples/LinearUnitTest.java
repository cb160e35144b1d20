package dev.kiln.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearUnitTest {
    @Test
    void linearUnitRecoversSlopeAndInterceptOfTheNoisyLine(@TempDir Path out) throws IOException {
        LinearUnit.Result r = LinearUnit.run(40, out, false);
        // 256 points with noise sd 0.3: the least-squares estimates are within about 0.02 of the truth;
        // 0.06 leaves room for SGD's last steps.
        assertEquals(LinearUnit.TRUE_W, r.w(), 0.06);
        assertEquals(LinearUnit.TRUE_B, r.b(), 0.06);
        assertTrue(Math.abs(r.initialW() - LinearUnit.TRUE_W) > 1, "the untrained unit should be far from the line");
        // The loss reaches the noise floor (0.09) within 25%.
        assertTrue(r.finalLoss() < 1.25 * LinearUnit.NOISE * LinearUnit.NOISE, "final MSE " + r.finalLoss());
        Images.assertPng(r.curves(), 400, 300);
        Images.assertPng(r.fit(), 600, 400);
        assertTrue(out.resolve("history.csv").toFile().length() > 100);
    }
}
