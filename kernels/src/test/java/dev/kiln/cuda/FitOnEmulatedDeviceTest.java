package dev.kiln.cuda;

import dev.kiln.compile.Precision;
import dev.kiln.cpu.CpuBackend;
import dev.kiln.cuda.emu.EmulatedCuda;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.emu.Nvcc;
import dev.kiln.data.Dataset;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;
import dev.kiln.eager.Tensor;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Model.fit on the CUDA backend (the emulated device) against the CPU backend: 2 epochs of 40
 * examples in batches of 16 (so a last batch of 8 runs its own training program, on the same device
 * weights), validation each epoch (the evaluation program reads the trained device weights), then the
 * model's host weights — current because fit syncs them at each epoch's end — against the CPU run's.
 * A host write (setWeights) afterwards reaches the device before the next run.
 *
 * <p>Tolerance: 1e-5 absolute on weights and 1e-5 relative on losses. The backends differ only in the
 * GEMM's summation order and CUDA's float constants (see ModelStepsOnEmulatedDeviceTest); with k ≤ 6
 * that moves a weight by ~1e-7. A stale host copy stays at the initial weights, ~1e-2 away after 6
 * Adam steps at lr 1e-2.
 *
 * <p>The pinned feed (the backend's default for fit's full batches) against setInput for every batch: the same
 * batches reach the same programs, so losses, metrics (whose labels the host reads back from the pinned set) and
 * weights are equal bit for bit over several shuffled epochs, each ending in a short batch fed with setInput.
 */
class FitOnEmulatedDeviceTest {
    private static final double TOL = 1e-5;

    private static Model model() {
        Model m = Sequential.of(Input.shape(5), Dense.of(6).relu(), Dense.of(1)).seed(7);
        // exact f32 on both backends: the CUDA backend's default, TF32, rounds the products' operands (~1e-4 relative)
        m.compile(Adam.lr(1e-2), Loss.mse(), Precision.F32);
        return m;
    }

    private static Dataset data(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 5], y = new float[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < n; i++) y[i] = x[5 * i] - 0.5f * x[5 * i + 3] + 0.1f * (float) r.nextGaussian();
        return Dataset.of(x, Shape.of(n, 5), y, Shape.of(n, 1));
    }

    @Test
    void fitOnTheDeviceLeavesTheHostWeightsOfTheCpuRun() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        try (EmulatedCuda cuda = new EmulatedCuda()) {
            Model cpu = model().backend(new CpuBackend()), gpu = model().backend(cuda.backend);
            List<Tensor> initial = gpu.getWeights();
            Fit fit = Fit.epochs(2).batchSize(16).validation(data(12, 2)).verbose(false).seed(3);
            History hc = cpu.fit(data(40, 1), fit), hg = gpu.fit(data(40, 1), fit);

            for (String key : List.of("loss", "val_loss")) {
                for (int e = 0; e < 2; e++) {
                    double a = hc.get(key).get(e), b = hg.get(key).get(e);
                    assertEquals(a, b, TOL * Math.abs(a), key + " of epoch " + (e + 1));
                }
            }
            assertWeights(cpu.getWeights(), gpu.getWeights(), "after fit");
            double moved = maxDiff(initial, gpu.getWeights());
            assertTrue(moved > 100 * TOL, "the host weights moved from their initial values (by " + moved + ")");

            // a host write reaches the device: both back to the initial weights, then the same evaluation
            cpu.setWeights(initial);
            gpu.setWeights(initial);
            Map<String, Double> ec = cpu.evaluate(data(12, 2)), eg = gpu.evaluate(data(12, 2));
            assertEquals(ec.get("loss"), eg.get("loss"), TOL * ec.get("loss"), "evaluation after setWeights");
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    @Test
    void fitThroughThePinnedFeedGivesTheBitsOfSetInput() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        try (EmulatedCuda cuda = new EmulatedCuda()) {
            Fit fit = Fit.epochs(3).batchSize(16).validation(data(12, 2)).verbose(false).seed(5);
            long before = cuda.driver.pinnedCounts()[0];
            Model plain = maeModel().backend(new CudaBackend(cuda.device).pinnedFeed(false));
            History hp = plain.fit(data(40, 1), fit);
            assertEquals(before, cuda.driver.pinnedCounts()[0], "with pinnedFeed(false) fit pins nothing");

            Model pinned = maeModel().backend(new CudaBackend(cuda.device).pinnedFeed(true));
            History hf = pinned.fit(data(40, 1), fit);
            long[] counts = cuda.driver.pinnedCounts();
            // 3 epochs x 2 sets x (features + labels)
            assertEquals(before + 12, counts[0], "fit pinned two buffer sets of two inputs per epoch");
            assertEquals(0, counts[1], "every pinned buffer freed at each epoch's end");

            for (String key : List.of("loss", "mae", "val_loss", "val_mae")) {
                for (int e = 0; e < 3; e++) {
                    assertEquals(hp.get(key).get(e), hf.get(key).get(e), 0.0, key + " of epoch " + (e + 1) + ", pinned feed vs setInput");
                }
            }
            List<Tensor> a = plain.getWeights(), b = pinned.getWeights();
            for (int i = 0; i < a.size(); i++) {
                float[] x = a.get(i).toArray(), y = b.get(i).toArray();
                for (int j = 0; j < x.length; j++) {
                    assertEquals(Float.floatToRawIntBits(x[j]), Float.floatToRawIntBits(y[j]), "weight " + i + "[" + j + "]: " + x[j] + " vs " + y[j]);
                }
            }
            assertTrue(hf.get("mae").get(2) < hf.get("mae").get(0), "the pinned run learned: mae " + hf.get("mae"));
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    private static Model maeModel() {
        Model m = Sequential.of(Input.shape(5), Dense.of(6).relu(), Dense.of(1)).seed(7);
        m.compile(Adam.lr(1e-2), Loss.mse(), Metric.mae());
        return m;
    }

    private static void assertWeights(List<Tensor> expected, List<Tensor> actual, String when) {
        double d = maxDiff(expected, actual);
        assertTrue(d <= TOL, "largest weight difference " + when + ": " + d);
    }

    private static double maxDiff(List<Tensor> a, List<Tensor> b) {
        double d = 0;
        for (int i = 0; i < a.size(); i++) {
            float[] x = a.get(i).toArray(), y = b.get(i).toArray();
            for (int j = 0; j < x.length; j++) d = Math.max(d, Math.abs(x[j] - y[j]));
        }
        return d;
    }
}
