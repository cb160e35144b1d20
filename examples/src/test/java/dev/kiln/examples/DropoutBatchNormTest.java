package dev.kiln.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

class DropoutBatchNormTest {
    @Test
    void batchNormClassifierReaches95PercentOnUnscaledBreastCancerData(@TempDir Path out) throws IOException {
        DropoutBatchNorm.Result r = DropoutBatchNorm.run(40, out, false);
        assertTrue(r.valAccuracy() >= 0.95, "validation binary accuracy " + r.valAccuracy());
        assertTrue(r.majorityAccuracy() < 0.7, "the bar must be well above guessing the majority (" + r.majorityAccuracy() + ")");
        assertTrue(r.valLoss() < 0.2, "validation BCE " + r.valLoss());
        Images.assertPng(r.curves(), 800, 300);
    }
}
