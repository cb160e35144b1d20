package dev.kiln.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegressionTest {
    @Test
    void sgdAndAdamBothBeatPredictingTheMeanByAWideMargin(@TempDir Path out) throws IOException {
        Regression.Result r = Regression.run(200, out, false);
        // Predicting the mean misses by ~6.5 mpg; a small net gets under 2.2. The bar: at most 40% of the baseline.
        assertTrue(r.baselineMae() > 5, "baseline MAE " + r.baselineMae());
        for (Regression.Run run : new Regression.Run[] {r.sgd(), r.adam()}) {
            assertTrue(run.valMae() < 0.4 * r.baselineMae(), run.optimizer() + ": validation MAE " + run.valMae() + " vs mean baseline " + r.baselineMae());
            assertEquals(200, run.history().epochs());
            // The learning curve falls: the last epoch's training loss is under half the first's.
            assertTrue(run.history().last("loss") < 0.5 * run.history().get("loss").get(0), run.optimizer() + " loss did not fall");
        }
        Images.assertPng(r.curves(), 1000, 400);
    }
}
