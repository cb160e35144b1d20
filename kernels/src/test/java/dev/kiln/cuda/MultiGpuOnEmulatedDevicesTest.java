package dev.kiln.cuda;

import dev.kiln.compile.Precision;
import dev.kiln.cuda.emu.EmulatedCuda;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.emu.Nvcc;
import dev.kiln.data.Dataset;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.DataParallel;
import dev.kiln.nn.Dense;
import dev.kiln.nn.HostAllReduce;
import dev.kiln.nn.Input;
import dev.kiln.nn.LossScale;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Several GPUs as far as this machine allows: {@link MultiGpu}'s ranks on two emulated devices, each rank's
 * {@link DataParallelStep} (gradient buckets gathered, all-reduced and scattered on the device) with a stand-in for
 * NCCL that averages the two ranks' buckets on the host across their threads ({@link HostAllReduce}, what ncclAvg
 * computes). Two ranks train as one device does on the whole global batch (model.fit, the fused step), the replicas
 * stay equal to the bit, and asking for more GPUs than the driver sees fails with one line.
 *
 * <p>Tolerance, {@value #TOLERANCE} absolute on weights, derived as in the CPU's DataParallelTrainingTest: the same
 * mean-loss gradient summed in another order (~1e-6 relative) plus the split-vs-fused programs' ~1e-6
 * (DataParallelStepTest), over 8 SGD steps of lr 0.05 with |g| below ~5: ≤ 8 · 0.05 · 5 · 2e-6 ≈ 4e-6.
 * A rank trained on its slice alone moves ~lr·|g| ≈ 1e-2 away.
 */
class MultiGpuOnEmulatedDevicesTest {
    private static final int ROWS = 32, FEATURES = 5, BATCH = 8, EPOCHS = 2;
    private static final double TOLERANCE = 1e-5;

    private static Model model() {
        Model m = Sequential.of(Input.shape(FEATURES), Dense.of(6).relu(), Dense.of(1)).seed(7);
        m.compile(Sgd.lr(0.05), Loss.mse(), Precision.F32, Metric.mae());   // exact f32: TF32 rounds the products' operands
        return m;
    }

    /** FP16 with a loss scale of 1024 that doubles after 2 good steps. */
    private static Model fp16Model() {
        Model m = model();
        m.compile(Sgd.lr(0.05), Loss.mse(), Precision.FP16, Metric.mae());
        m.lossScale(LossScale.initial(1024f).growthInterval(2));
        return m;
    }

    private static Dataset data() { return data(-1); }

    /** The examples; example {@code poisoned} (when not -1) holds 1e6, finite but infinite in FP16 (above 65504). */
    private static Dataset data(int poisoned) {
        Random r = new Random(4);
        float[] x = new float[ROWS * FEATURES], y = new float[ROWS];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < ROWS; i++) y[i] = x[FEATURES * i] - 0.5f * x[FEATURES * i + 3] + 0.1f * (float) r.nextGaussian();
        if (poisoned >= 0) x[FEATURES * poisoned + 2] = 1e6f;
        return Dataset.of(x, Shape.of(ROWS, FEATURES), y, Shape.of(ROWS, 1));
    }

    private static Fit fit() { return Fit.epochs(EPOCHS).batchSize(BATCH).seed(9).verbose(false); }

    /** NCCL's ncclAvg over the ranks' threads: the bucket to the host, averaged in rank order, back to the device. */
    private static DataParallelStep.AllReduce standIn(EmulatedCuda device, int rank, HostAllReduce host) {
        return new DataParallelStep.AllReduce() {
            @Override public int ranks() { return host.ranks(); }
            @Override public void average(long pointer, long count, long stream) {
                float[][] in = {new float[(int) count]}, out = {new float[(int) count]};
                device.driver.memcpyDtoH(MemorySegment.ofArray(in[0]), pointer, 4 * count);
                host.average(rank, in, out);
                device.driver.memcpyHtoD(pointer, MemorySegment.ofArray(out[0]), 4 * count);
            }
            @Override public void abort() { host.abort(); }
        };
    }

    @Test
    void twoEmulatedGpusTrainAsOneOnTheWholeGlobalBatch() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        try (EmulatedCuda one = new EmulatedCuda(); EmulatedCuda gpu0 = new EmulatedCuda(); EmulatedCuda gpu1 = new EmulatedCuda()) {
            Model single = model().backend(one.backend);
            History expected = single.fit(data(), fit());
            EmulatedCuda[] gpus = {gpu0, gpu1};
            HostAllReduce host = new HostAllReduce(2);
            History got;
            List<float[]> rank0, rank1;
            try (DataParallel dp = MultiGpu.start(2, r -> gpus[r].device, false, r -> model(), r -> standIn(gpus[r], r, host))) {
                got = dp.fit(data(), fit());
                rank0 = values(dp.model());
                Model replica = dp.replica(1);
                replica.gradientProgram(BATCH / 2).syncVariables();   // only rank 0's weights come back by themselves
                rank1 = values(replica);
            }
            assertTrue(host.calls() >= 2L * EPOCHS * ROWS / BATCH, "every step all-reduced on both ranks: " + host.calls() + " calls");
            List<float[]> want = values(single);
            double worst = 0;
            for (int v = 0; v < want.size(); v++) {
                for (int i = 0; i < want.get(v).length; i++) {
                    worst = Math.max(worst, Math.abs(want.get(v)[i] - rank0.get(v)[i]));
                    assertEquals(want.get(v)[i], rank0.get(v)[i], TOLERANCE, single.weights().get(v).name() + "[" + i + "]");
                    assertEquals(Float.floatToRawIntBits(rank0.get(v)[i]), Float.floatToRawIntBits(rank1.get(v)[i]), "rank 1's " + single.weights().get(v).name() + "[" + i + "]");
                }
            }
            System.out.println("[kiln-cuda] 2 emulated GPUs vs 1 on the global batch: largest weight difference " + worst + " after " + EPOCHS * ROWS / BATCH + " steps");
            for (int e = 0; e < EPOCHS; e++) {
                double a = expected.get("loss").get(e), b = got.get("loss").get(e);
                assertEquals(a, b, TOLERANCE * Math.max(1, a), "loss of epoch " + (e + 1));
                assertEquals(expected.get("mae").get(e), got.get("mae").get(e), TOLERANCE * Math.max(1, a), "mae of epoch " + (e + 1));
            }
        }
        EmulatedDevice.CASES.incrementAndGet();
    }

    /**
     * FP16 with a loss scale on two emulated GPUs through the gradient buckets: the step whose global batch holds an
     * example FP16 cannot hold overflows on one rank only; the averaged buckets carry the infinity to both, both skip
     * (one step per epoch), and the run keeps one device's skips and scale on the whole batch, weights within the
     * tolerance above.
     */
    @Test
    void twoEmulatedGpusInFp16SkipAStepThatOverflowsOnOneRankTogether() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        try (EmulatedCuda one = new EmulatedCuda(); EmulatedCuda gpu0 = new EmulatedCuda(); EmulatedCuda gpu1 = new EmulatedCuda()) {
            Model single = fp16Model().backend(one.backend);
            single.fit(data(13), fit());
            EmulatedCuda[] gpus = {gpu0, gpu1};
            HostAllReduce host = new HostAllReduce(2);
            try (DataParallel dp = MultiGpu.start(2, r -> gpus[r].device, false, r -> fp16Model(), r -> standIn(gpus[r], r, host))) {
                dp.fit(data(13), fit());
                Model replica = dp.replica(1);
                replica.applyGradientsProgram().syncVariables();   // the scale is the optimizer program's
                assertEquals(EPOCHS, single.lossScale().skippedSteps(), "one poisoned step per epoch: " + single.lossScale());
                for (Model m : List.of(dp.model(), replica)) {
                    assertEquals(single.lossScale().skippedSteps(), m.lossScale().skippedSteps(), m.lossScale().toString());
                    assertEquals(single.lossScale().scale(), m.lossScale().scale(), m.lossScale().toString());
                }
                List<float[]> want = values(single), got = values(dp.model());
                for (int v = 0; v < want.size(); v++) {
                    for (int i = 0; i < want.get(v).length; i++) assertEquals(want.get(v)[i], got.get(v)[i], TOLERANCE, single.weights().get(v).name() + "[" + i + "]");
                }
            }
        }
        EmulatedDevice.CASES.incrementAndGet();
    }

    /**
     * Rank 0 runs on whichever thread calls fit: its device's context must be made current there (the emulated driver
     * records the context current per thread; each rank's all-reduce checks it), and the devices MultiGpu owns are
     * released when it closes. A fit from a thread other than the one that started the ranks had rank 0 run with no
     * context current.
     */
    @Test
    void rank0sContextIsCurrentOnTheThreadThatCallsFitAndOwnedDevicesAreReleased() throws InterruptedException {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        try (EmulatedCuda gpu0 = new EmulatedCuda(); EmulatedCuda gpu1 = new EmulatedCuda()) {
            EmulatedCuda[] gpus = {gpu0, gpu1};
            long[] contexts = new long[2];
            HostAllReduce host = new HostAllReduce(2);
            List<String> wrong = Collections.synchronizedList(new ArrayList<>());
            IntFunction<CudaDevice> open = r -> {
                contexts[r] = gpus[r].driver.contextCreate(0);
                return new CudaDevice(gpus[r].driver, gpus[r].gemm, Nvcc::ptx, contexts[r]);
            };
            AtomicReference<Throwable> failed = new AtomicReference<>();
            DataParallel dp = MultiGpu.start(2, open, true, r -> model(), r -> checkingContext(standIn(gpus[r], r, host), gpus[r], contexts, r, wrong));
            try {
                Thread other = new Thread(() -> {
                    try {
                        dp.fit(data(), fit());
                    } catch (RuntimeException | Error e) {
                        failed.set(e);
                    }
                });
                other.start();
                other.join();
            } finally {
                dp.close();
            }
            assertNull(failed.get(), () -> "fit from another thread failed: " + failed.get());
            assertEquals(List.of(), wrong);
            assertTrue(host.calls() > 0, "the all-reduce ran");
            for (int r = 0; r < 2; r++) assertTrue(gpus[r].driver.released(contexts[r]), "rank " + r + "'s context released on close");
        }
        EmulatedDevice.CASES.incrementAndGet();
    }

    /** {@code reduce}, recording a call made on a thread where rank {@code rank}'s context is not current. */
    private static DataParallelStep.AllReduce checkingContext(DataParallelStep.AllReduce reduce, EmulatedCuda gpu, long[] contexts, int rank, List<String> wrong) {
        return new DataParallelStep.AllReduce() {
            @Override public int ranks() { return reduce.ranks(); }
            @Override public void average(long pointer, long count, long stream) {
                long current = gpu.driver.currentContext();
                if (current != contexts[rank]) wrong.add("rank " + rank + " ran on " + Thread.currentThread().getName() + " with context " + current + " current, not " + contexts[rank]);
                reduce.average(pointer, count, stream);
            }
            @Override public void abort() { reduce.abort(); }
        };
    }

    @Test
    void moreGpusThanTheDriverSeesFailWithOneLine() {
        var e = assertThrows(IllegalArgumentException.class, () -> MultiGpu.requireDevices(4, new MultiGpu.Visible(1, "")));
        assertEquals("data-parallel training on 4 GPUs needs 4 CUDA devices, found 1; ask for at most 1 (MultiGpu.allGpus uses every visible one) "
                + "or make more visible (nvidia-smi, CUDA_VISIBLE_DEVICES)", e.getMessage());
        // through the public entry, on whatever this machine has: 64 GPUs are more than any node here
        MultiGpu.Visible here = MultiGpu.visible();
        var real = assertThrows(IllegalArgumentException.class, () -> MultiGpu.start(64, r -> model()));
        assertTrue(real.getMessage().startsWith("data-parallel training on 64 GPUs needs 64 CUDA devices, found " + here.count()), real.getMessage());
        assertTrue(!real.getMessage().contains("\n"), "one line: " + real.getMessage());
        System.out.println("[kiln-cuda] " + real.getMessage());
        var zero = assertThrows(IllegalArgumentException.class, () -> MultiGpu.requireDevices(2, new MultiGpu.Visible(0, " (libcuda.so.1 not found: no NVIDIA driver)")));
        assertEquals("data-parallel training on 2 GPUs needs 2 CUDA devices, found 0 (libcuda.so.1 not found: no NVIDIA driver); "
                + "train on the CPU instead (model.fit, or DataParallel.onHost for several ranks)", zero.getMessage());
    }

    private static List<float[]> values(Model m) {
        List<float[]> l = new ArrayList<>();
        for (Variable v : m.weights()) l.add(v.value().clone());
        return l;
    }
}
