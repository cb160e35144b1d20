package dev.kiln.bench;

import dev.kiln.cuda.MultiGpu;
import dev.kiln.data.Dataset;
import dev.kiln.nn.DataParallel;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;
import dev.kiln.train.History;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The GPU machine's data-parallel step: M1 trained on every visible GPU ({@link MultiGpu#allGpus}) and on GPU 0 alone,
 * on the same global batches (256 examples per GPU) from the same weights: the epoch losses side by side, their
 * largest relative difference, and each run's training samples/s. With one GPU it says that data-parallel training
 * degrades to one rank and trains M1 that way (the model's own fit); with none it says why and measures nothing.
 *
 * <pre>java ... dev.kiln.bench.MultiGpuRun --epochs 3 --steps 16</pre>
 */
public final class MultiGpuRun {
    private MultiGpuRun() {}

    public static void main(String[] args) {
        Map<String, String> a = Args.parse(args);
        int epochs = Integer.parseInt(a.getOrDefault("epochs", "3")), steps = Integer.parseInt(a.getOrDefault("steps", "16"));
        int gpus = MultiGpu.visibleGpus();
        if (gpus == 0) {
            System.out.println("multi-GPU: no CUDA device visible: data-parallel training not run");
            return;
        }
        int batch = 256 * gpus;
        Dataset data = data(batch * steps);
        Result one = train(1, data, batch, epochs);
        if (gpus == 1) {
            System.out.println("multi-GPU: 1 GPU: data-parallel degrades to one rank (the model's own fit, no all-reduce); M1 " + one);
            return;
        }
        Result all = train(gpus, data, batch, epochs);
        double worst = 0;
        for (int e = 0; e < epochs; e++) worst = Math.max(worst, Math.abs(all.loss.get(e) - one.loss.get(e)) / Math.abs(one.loss.get(e)));
        System.out.println("multi-GPU: M1, global batch " + batch + ": 1 GPU " + one);
        System.out.println("multi-GPU: M1, global batch " + batch + ": " + gpus + " GPUs " + all);
        System.out.println(String.format(Locale.ROOT, "multi-GPU: largest relative epoch-loss difference %.2e (%s); speed-up %.2fx on %d GPUs",
                worst, worst <= GpuRun.CURVE_TOLERANCE ? "agree" : "DIFFER", all.samplesPerSecond / one.samplesPerSecond, gpus));
    }

    record Result(List<Double> loss, double samplesPerSecond) {
        @Override public String toString() { return String.format(Locale.ROOT, "epoch losses %s, %.0f samples/s", loss, samplesPerSecond); }
    }

    /** One warm-up epoch (programs compiled, graphs captured), then {@code epochs} timed ones, continuing from it. */
    private static Result train(int gpus, Dataset data, int batch, int epochs) {
        try (DataParallel dp = MultiGpu.start(gpus, rank -> BenchModels.of("M1").model())) {
            dp.fit(data, Fit.epochs(1).batchSize(batch).seed(1).verbose(false));
            long t0 = System.nanoTime();
            History h = dp.fit(data, Fit.epochs(epochs).batchSize(batch).seed(2).verbose(false));
            double s = (System.nanoTime() - t0) / 1e9;
            return new Result(h.get("loss"), (double) data.size() * epochs / s);
        }
    }

    /** M1's data: 11 features in [-1, 1), a target in [-1, 1). */
    private static Dataset data(int rows) {
        SplittableRandom r = new SplittableRandom(7);
        float[] x = new float[rows * 11], y = new float[rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < rows; i++) y[i] = (float) r.nextDouble(-1, 1);
        return Dataset.of(x, Shape.of(rows, 11), y, Shape.of(rows, 1));
    }
}
