package dev.kiln.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeepNetTest {
    @Test
    void reluStackFitsTheCurveWhileLinearStacksOnlyFitALine(@TempDir Path out) throws IOException {
        DeepNet.Result r = DeepNet.run(60, out, false);
        // Stacked linear layers are still one linear map: about the same error as one unit (within 10%).
        assertEquals(r.linearMae(), r.deepLinearMae(), 0.1 * r.linearMae(), "linear unit vs deep linear stack");
        // The best line leaves MAE ~0.58 on sin(2x) + x/2; the ReLU net gets near the noise (~0.08).
        assertTrue(r.linearMae() > 0.5, "a line cannot fit the curve, yet MAE was " + r.linearMae());
        assertTrue(r.deepReluMae() < 0.3 * r.linearMae(), "ReLU net MAE " + r.deepReluMae() + " vs linear " + r.linearMae());
        Images.assertPng(r.fits(), 700, 450);
    }
}
