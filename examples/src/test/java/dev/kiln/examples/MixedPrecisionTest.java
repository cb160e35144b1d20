package dev.kiln.examples;

import dev.kiln.compile.Precision;
import dev.kiln.data.Dataset;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The mixed-precision example's training run, cut to 1,024 images and two epochs (the full run's figures are in the README). */
class MixedPrecisionTest {
    @Test
    void eachPrecisionTrainsTheConvnetAndFp16ReportsItsLossScale() throws Exception {
        Dataset.Split full = FashionMnistSubset.load();
        Dataset.Split small = new Dataset.Split(full.train().take(1024), full.validation().take(400));
        MixedPrecision.Run bf16 = MixedPrecision.train(Precision.BF16, small, 2);
        MixedPrecision.Run fp16 = MixedPrecision.train(Precision.FP16, small, 2);
        // two epochs of 16 batches lift M3 well above chance (0.10) on ten classes
        assertTrue(bf16.testAccuracy() > 0.3, "bf16 accuracy " + bf16.testAccuracy());
        assertTrue(fp16.testAccuracy() > 0.3, "fp16 accuracy " + fp16.testAccuracy());
        assertNull(bf16.lossScale());
        assertTrue(fp16.lossScale().startsWith("LossScale("), fp16.lossScale());
    }
}
