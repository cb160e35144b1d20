package dev.kiln.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EarlyStoppingExampleTest {
    @Test
    void earlyStoppingStopsBeforeTheMaximumAndRestoresTheBestWeights(@TempDir Path out) throws IOException {
        int max = 60;
        EarlyStoppingExample.Result r = EarlyStoppingExample.run(max, out, false);
        EarlyStoppingExample.Run over = r.overfit(), early = r.early();

        // Overfitting: the wide net ends far below its validation loss, which has risen 10% past its lowest point.
        List<Double> v = over.history().get("val_loss");
        assertEquals(max, over.history().epochs());
        assertTrue(over.history().last("loss") < 0.6 * over.history().last("val_loss"), "train " + over.history().last("loss") + " vs val " + over.history().last("val_loss"));
        assertTrue(v.get(v.size() - 1) > 1.1 * over.bestValLoss(), "final val_loss " + v.get(v.size() - 1) + ", best " + over.bestValLoss());

        // Early stopping: stopped well before the maximum, patience (10) epochs after the best one...
        assertTrue(early.history().epochs() < max / 2, "ran " + early.history().epochs() + " of " + max + " epochs");
        // as Keras: training stops `patience` epochs after the best one
        int after = r.stoppedEpoch() - r.bestEpoch();
        assertTrue(after == 10, "stopped " + after + " epochs after the best, patience 10");
        // ...and the model now has the best epoch's weights: evaluating gives the best val_loss (float sums: 1e-4).
        assertEquals(early.bestValLoss(), early.finalValLoss(), 1e-4);
        assertTrue(early.finalValLoss() < early.history().last("val_loss") - 1e-3, "restoring changed nothing");
        Images.assertPng(r.curves(), 800, 450);
    }
}
