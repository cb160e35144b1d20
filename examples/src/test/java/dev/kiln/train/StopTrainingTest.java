package dev.kiln.train;

import dev.kiln.cpu.CpuBackend;
import dev.kiln.data.Dataset;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A callback stops training after any batch (Keras's stop_training); one that stops at an epoch's end stops after that epoch. */
class StopTrainingTest {
    /** 100 rows of y = 2x: 10 batches of 10 per epoch. */
    private static Dataset line() {
        float[] x = new float[100], y = new float[100];
        for (int i = 0; i < 100; i++) { x[i] = i / 100f; y[i] = 2 * x[i]; }
        return Dataset.of(x, Shape.of(100, 1), y, Shape.of(100, 1));
    }

    private static Model model() {
        Model m = Sequential.of(Input.shape(1), Dense.of(1)).seed(1);
        m.backend(new CpuBackend());
        m.compile(Sgd.lr(0.1), Loss.mse());
        return m;
    }

    /** Records every batch and epoch end, and asks to stop after batch {@code stopAt} of epoch {@code stopEpoch}. */
    private static final class Recorder implements Callback {
        final List<String> events = new ArrayList<>();
        final int stopEpoch, stopAt;
        int epoch;
        Recorder(int stopEpoch, int stopAt) { this.stopEpoch = stopEpoch; this.stopAt = stopAt; }
        @Override public void onEpochBegin(TrainingState s, int e) { epoch = e; }
        @Override public void onBatchEnd(TrainingState s, int batch, BatchLogs logs) {
            events.add("b" + epoch + "." + batch);
            if (epoch == stopEpoch && batch == stopAt) s.stopTraining();
        }
        @Override public void onEpochEnd(TrainingState s, int e, Map<String, Double> logs) { events.add("e" + e); }
    }

    @Test
    void aCallbackThatStopsInOnBatchEndStopsAfterThatBatch() {
        Model m = model();
        Recorder r = new Recorder(1, 3);
        History h = m.fit(line(), Fit.epochs(5).batchSize(10).shuffle(false).verbose(false).callbacks(r));
        List<String> expected = new ArrayList<>();
        for (int b = 0; b < 10; b++) expected.add("b0." + b);
        expected.add("e0");
        for (int b = 0; b <= 3; b++) expected.add("b1." + b);
        expected.add("e1"); // the cut epoch still ends: its logs, validation and onEpochEnd
        assertEquals(expected, r.events);
        assertEquals(14, m.iterations(), "10 steps in epoch 0, 4 in epoch 1");
        assertEquals(2, h.epochs());
    }

    @Test
    void stoppingAtAnEpochsEndStopsAfterThatEpoch() {
        Model m = model();
        Callback stopAfterFirst = new Callback() {
            @Override public void onEpochEnd(TrainingState s, int e, Map<String, Double> logs) { s.stopTraining(); }
        };
        m.fit(line(), Fit.epochs(5).batchSize(10).shuffle(false).verbose(false).callbacks(stopAfterFirst));
        assertEquals(10, m.iterations());
    }
}
