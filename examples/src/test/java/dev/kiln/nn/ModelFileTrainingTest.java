package dev.kiln.nn;

import dev.kiln.cpu.CpuBackend;
import dev.kiln.data.Dataset;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Callback;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import dev.kiln.train.ModelCheckpoint;
import dev.kiln.train.TrainingState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Model files with training on the CPU backend: save → load → predict is bit-identical, a run
 * resumed from a file after 2 of 4 epochs ends with bit-identical weights, optimizer slots and
 * losses, and a checkpoint callback whose write fails midway leaves the last checkpoint loadable.
 * Bit-for-bit is the right bar: the resumed run executes the same compiled program on the same
 * values in the same order (shuffling keyed by epoch, dropout by the step counter, Adam by its t).
 */
class ModelFileTrainingTest {
    @TempDir Path dir;
    private static final CpuBackend CPU = new CpuBackend();

    /** Three Gaussian blobs in 6 dimensions; 200 rows, so batches of 32 end with a partial batch of 8. */
    static Dataset blobs(int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * 6], y = new float[rows];
        for (int i = 0; i < rows; i++) {
            int c = r.nextInt(3);
            y[i] = c;
            for (int j = 0; j < 6; j++) x[i * 6 + j] = (float) (r.nextGaussian() + (j % 3 == c ? 1.5 : 0));
        }
        return Dataset.of(x, Shape.of(rows, 6), y, Shape.of(rows));
    }

    static Model classifier() {
        Model m = Sequential.of(Input.shape(6), Dense.of(16).relu(), BatchNormalization.of().momentum(0.9), Dropout.of(0.3),
                Dense.of(16).relu(), Dropout.of(0.2), Dense.of(3).softmax()).seed(11);
        return compiled(m);
    }

    static Model compiled(Model m) {
        m.backend(CPU);
        m.compile(Adam.lr(1e-2), Loss.sparseCategoricalCrossentropy(), Metric.accuracy());
        return m;
    }

    static Fit fit(int epochs, Dataset val) { return Fit.epochs(epochs).batchSize(32).seed(5).validation(val).verbose(false); }

    @Test
    void saveLoadPredictGivesIdenticalOutputs() throws IOException {
        Model m = compiled(Sequential.of(Input.shape(6, 6, 1), Conv2D.of(4, 3).relu().same(), BatchNormalization.of(), MaxPool2D.of(2),
                Flatten.of(), Dropout.of(0.5), Dense.of(3).softmax()).seed(2));
        SplittableRandom r = new SplittableRandom(4);
        float[] x = new float[40 * 36], y = new float[40];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < y.length; i++) y[i] = i % 3;
        m.fit(Dataset.of(x, Shape.of(40, 6, 6, 1), y, Shape.of(40)), Fit.epochs(2).batchSize(8).verbose(false));
        float[] expected = m.predict(x, 16);

        Path file = dir.resolve("conv.safetensors");
        m.save(file);
        Model back = Model.load(file).backend(CPU);
        float[] got = back.predict(x, 16);
        assertArrayEquals(expected, got, 0f);
        // the moving statistics moved away from their initial values, so they were saved and used
        assertNotEquals(0f, back.weights().get(4).value()[0], "batch_normalization/moving_mean");
    }

    @Test
    void resumingAfterTwoEpochsFromAFileMatchesAnUninterruptedRunBitForBit() throws IOException {
        Dataset train = blobs(200, 1), val = blobs(50, 2);
        Model straight = classifier();
        History all = straight.fit(train, fit(4, val));

        Model first = classifier();
        History firstHalf = first.fit(train, fit(2, val));
        Path file = dir.resolve("half.safetensors");
        first.save(file);

        Model resumed = compiled(Model.load(file));
        assertEquals(2L * 7, resumed.iterations(), "7 batches per epoch");
        History secondHalf = resumed.fit(train, fit(4, val).initialEpoch(2));

        assertEquals(all.get("loss").subList(0, 2), firstHalf.get("loss"));
        assertEquals(all.get("loss").subList(2, 4), secondHalf.get("loss"));
        assertEquals(all.get("val_loss").subList(2, 4), secondHalf.get("val_loss"));
        assertEquals(straight.iterations(), resumed.iterations());
        assertSameState(straight, resumed);

        // the comparison can fail: the same resume with Adam's moments dropped ends elsewhere
        Model restarted = Model.load(file);
        restarted.restoreOptimizerState(List.of());
        compiled(restarted).fit(train, fit(4, val).initialEpoch(2));
        assertFalse(Arrays.equals(straight.weights().get(0).value(), restarted.weights().get(0).value()));
    }

    static void assertSameState(Model expected, Model actual) {
        List<Variable> a = expected.weights(), b = actual.weights();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i).value(), b.get(i).value(), 0f, a.get(i).name());
        Map<String, float[]> slots = new LinkedHashMap<>();
        for (Variable s : actual.optimizer().slots()) slots.put(s.name(), s.value());
        assertEquals(expected.optimizer().slots().size(), slots.size());
        for (Variable s : expected.optimizer().slots()) assertArrayEquals(s.value(), slots.get(s.name()), 0f, s.name());
    }

    @Test
    void checkpointWithSaveBestOnlyHoldsTheBestEpoch() throws IOException {
        Dataset train = blobs(200, 1), val = blobs(50, 2);
        Model m = classifier();
        Path file = dir.resolve("best.safetensors");
        List<float[]> kernels = new ArrayList<>();
        Callback snapshot = new Callback() {
            @Override public void onEpochEnd(TrainingState s, int epoch, Map<String, Double> logs) { kernels.add(s.model().weights().get(0).value().clone()); }
        };
        ModelCheckpoint best = ModelCheckpoint.to(file).monitor("val_loss").saveBestOnly();
        // a learning rate high enough that val_loss does not fall every epoch
        m.compile(Adam.lr(0.3), Loss.sparseCategoricalCrossentropy());
        History h = m.fit(train, fit(6, val).callbacks(best, snapshot));

        List<Double> v = h.get("val_loss");
        int argmin = 0;
        for (int i = 1; i < v.size(); i++) if (v.get(i) < v.get(argmin)) argmin = i;
        assertEquals(argmin, best.bestEpoch());
        assertEquals(v.get(argmin), best.best(), 0.0);
        assertArrayEquals(kernels.get(argmin), Model.load(file).weights().get(0).value(), 0f, "checkpoint holds epoch " + (argmin + 1) + " of " + v);
    }

    @Test
    void aCheckpointWriteThatFailsMidwayLeavesTheLastGoodCheckpointLoadable() throws IOException {
        Dataset train = blobs(200, 1), val = blobs(50, 2);
        float[] probe = blobs(20, 3).features();
        Model m = classifier();
        Path file = dir.resolve("ckpt.safetensors");
        List<float[]> predictions = new ArrayList<>();
        Callback probeAndFault = new Callback() {
            @Override public void onEpochEnd(TrainingState s, int epoch, Map<String, Double> logs) {
                predictions.add(s.model().predict(probe, 20));
                // the disk "fills up" during the next checkpoint, after 3 tensors of the data section
                if (epoch == 1) ModelFile.beforeWrite = ModelFileTest.failingAfter(3);
            }
        };
        try {
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> m.fit(train, fit(4, val).callbacks(ModelCheckpoint.to(file), probeAndFault)));
            assertTrue(e.getMessage().contains("after epoch 3") && e.getMessage().contains(file.toString()) && e.getMessage().contains("No space left"), e.getMessage());
        } finally {
            ModelFile.beforeWrite = null;
        }
        assertEquals(2, predictions.size(), "training stopped at the failed checkpoint of epoch 3");
        Model back = Model.load(file).backend(CPU);
        assertEquals(2L * 7, back.iterations(), "the file is epoch 2's checkpoint");
        assertArrayEquals(predictions.get(1), back.predict(probe, 20), 0f);
        assertFalse(Arrays.equals(predictions.get(0), predictions.get(1)), "epochs 1 and 2 predict differently, so the check can tell them apart");
        try (var listing = Files.list(dir)) { assertEquals(List.of(file), listing.toList(), "no temporary file is left behind"); }
    }
}
