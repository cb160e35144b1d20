package dev.kiln.cuda;

import dev.kiln.cuda.ffi.Nccl;
import dev.kiln.cuda.ffi.NativeDriver;
import dev.kiln.nn.DataParallel;
import dev.kiln.nn.Model;
import dev.kiln.nn.RankResources;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Data-parallel training on the GPUs of this machine, one process: rank r builds its replica on GPU r, on a thread of
 * its own with that GPU's context current, and trains with a {@link DataParallelStep} whose gradient buckets NCCL
 * averages (ncclCommInitAll: one communicator per GPU). {@link DataParallel} does the rest: rank 0's weights to every
 * replica at the start of every fit, each global batch split into one slice per GPU, the epoch's figures over whole
 * batches, rank 0's weights to the host model after each epoch. Rank 0's context is made current on whichever thread
 * calls fit or close, and each GPU's context is released on close. One GPU degrades to the model's own {@code fit}: the
 * fused step, no NCCL, no all-reduce. Unverified on a machine with several GPUs (the emulated device and the CPU test the logic).
 *
 * <pre>{@code
 * try (DataParallel dp = MultiGpu.allGpus(rank -> {
 *         Model m = Sequential.of(Input.shape(784), Dense.of(256).relu(), Dense.of(10)).seed(1);
 *         m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropyFromLogits(), Metric.accuracy());
 *         return m; })) {
 *     dp.fit(train, Fit.epochs(5).batchSize(512));   // 512 / n examples per GPU per step
 *     dp.model().save(Path.of("model.kiln"));
 * }
 * }</pre>
 */
public final class MultiGpu {
    private MultiGpu() {}

    /** Every GPU the driver sees (CUDA_VISIBLE_DEVICES chooses them); fails with one line when there is none. */
    public static DataParallel allGpus(IntFunction<Model> build) {
        Visible v = visible();
        if (v.count() == 0) throw new IllegalStateException("MultiGpu.allGpus: no CUDA device" + v.why() + "; train on the CPU (model.fit, or DataParallel.onHost for several ranks)");
        return start(v.count(), build);
    }

    /** GPUs 0..gpus-1, replica r made by {@code build.apply(r)} (a compiled model; its backend is set to GPU r's). */
    public static DataParallel start(int gpus, IntFunction<Model> build) {
        requireDevices(gpus, visible());
        if (gpus == 1) return start(1, CudaDevice::openNative, true, build, rank -> DataParallelStep.ONE_RANK);
        Nccl nccl = Nccl.load(Arena.global()).orElseThrow(() -> new UnsupportedOperationException("data-parallel training on " + gpus
                + " GPUs needs NCCL: libnccl.so.2 not found; install it (apt-get install libnccl2, or pip install nvidia-nccl-cu12) or add its folder to LD_LIBRARY_PATH"));
        List<Nccl.Comm> comms = nccl.commsForDevices(gpus);
        try {
            DataParallel dp = start(gpus, CudaDevice::openNative, true, build, rank -> DataParallelStep.nccl(comms.get(rank)));
            for (Nccl.Comm c : comms) dp.closing(c);
            return dp;
        } catch (RuntimeException | Error e) {
            for (Nccl.Comm c : comms) c.close();
            throw e;
        }
    }

    /**
     * The mechanism, over any devices and all-reduce (the emulated ones in tests): rank r's replica on {@code open.apply(r)},
     * on rank r's thread; the device's context is made current before each of the rank's pieces of work (rank 0 runs on
     * whichever thread calls fit or close) and, when {@code owned}, the device is closed on the rank's thread at the end.
     */
    static DataParallel start(int ranks, IntFunction<CudaDevice> open, boolean owned, IntFunction<Model> build, IntFunction<DataParallelStep.AllReduce> reduce) {
        CudaDevice[] devices = new CudaDevice[ranks];
        RankResources gpus = new RankResources() {
            @Override public void enter(int rank) { if (devices[rank] != null) devices[rank].makeCurrent(); }
            @Override public void release(int rank) {
                if (owned && devices[rank] != null) devices[rank].close();
                devices[rank] = null;
            }
        };
        return DataParallel.start(ranks, rank -> {
            devices[rank] = open.apply(rank);
            return build.apply(rank).backend(new CudaBackend(devices[rank]));
        }, (replica, rank, batch) -> new DataParallelStep(replica, batch, reduce.apply(rank), GradientBuckets.DEFAULT_CAP_BYTES), gpus);
    }

    /** How many GPUs the driver sees (0 without a driver or a device). */
    public static int visibleGpus() { return visible().count(); }

    /** How many GPUs the driver sees, and why none when none (" (libcuda.so.1 not found: no NVIDIA driver)"). */
    record Visible(int count, String why) {}

    static Visible visible() {
        Optional<NativeDriver> driver = NativeDriver.load(Arena.global());
        if (driver.isEmpty()) return new Visible(0, " (libcuda.so.1 not found: no NVIDIA driver)");
        try {
            driver.get().init();
            int count = driver.get().deviceCount();
            return new Visible(count, count == 0 ? " (the driver sees none: check nvidia-smi and CUDA_VISIBLE_DEVICES)" : "");
        } catch (CudaException e) {
            return new Visible(0, " (" + e.getMessage() + ")");
        }
    }

    /** Fails with one line unless {@code asked} GPUs are there. */
    static void requireDevices(int asked, Visible found) {
        if (asked < 1) throw new IllegalArgumentException("MultiGpu.start: " + asked + " GPUs asked for; ask for at least 1, or use MultiGpu.allGpus");
        if (asked <= found.count()) return;
        String fix = found.count() == 0 ? "train on the CPU instead (model.fit, or DataParallel.onHost for several ranks)"
                : "ask for at most " + found.count() + " (MultiGpu.allGpus uses every visible one) or make more visible (nvidia-smi, CUDA_VISIBLE_DEVICES)";
        throw new IllegalArgumentException("data-parallel training on " + asked + " GPUs needs " + asked + " CUDA devices, found " + found.count() + found.why() + "; " + fix);
    }
}
