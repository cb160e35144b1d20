package dev.kiln.bench;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * M1 and M2 trained on the CUDA backend and on the CPU backend from the same initial weights (same seed) and the same
 * batches: the two loss curves side by side, their largest relative difference, and each backend's training samples/s.
 * Part of the GPU machine's run (./kiln gpu-pack, scripts/gpu-run.sh); it reaches the CUDA backend through the public
 * API only ({@link Backend#all()}, {@code Model.backend}), so it measures whatever lowering kiln-cuda has, on any
 * device the backend sees (present, even before it calls itself usable); a model it cannot lower records the error.
 * With no device it writes why, and no GPU figure: nothing is measured on the CPU in its place.
 *
 * <pre>java ... dev.kiln.bench.GpuRun --models M1,M2 --steps 50 --out kiln-gpu.json</pre>
 */
public final class GpuRun {
    /** The loss curves agree when every step's losses differ by at most this, relative to the CPU's loss. */
    static final double CURVE_TOLERANCE = 1e-3;

    private GpuRun() {}

    public static void main(String[] args) throws IOException {
        Map<String, String> a = Args.parse(args);
        List<String> models = List.of(a.getOrDefault("models", "M1,M2").split(","));
        int steps = Integer.parseInt(a.getOrDefault("steps", "50"));
        double seconds = Double.parseDouble(a.getOrDefault("seconds", "1.0"));
        Map<String, Object> out = new LinkedHashMap<>();
        Optional<Backend> cuda = Backend.all().stream().filter(b -> b.name().equals("cuda")).findFirst();
        Availability availability = cuda.map(Backend::availability).orElse(null);
        // a device that the backend does not yet call usable (not verified on a GPU) is measured all the same: that is this run's point
        boolean usable = availability != null && availability.present();
        String why = availability == null ? "kiln-cuda is not on the class path" : availability.summary();
        out.put("cuda_usable", availability != null && availability.usable());
        out.put("cuda_present", usable);
        out.put("cuda_summary", why);
        out.put("cuda_checks", availability == null ? List.of() : availability.checks());
        System.out.println("CUDA backend: " + (usable ? "device present" : "NO device") + " - " + why);
        Map<String, Object> results = new LinkedHashMap<>();
        for (String name : models) {
            Map<String, Object> r = new LinkedHashMap<>();
            Executable cpu = program(name, Backend.named("cpu"));
            float[] cpuLoss = curve(name, cpu, steps);
            r.put("steps", steps);
            r.put("cpu_loss", toList(cpuLoss));
            r.put("cpu_samples_per_s", samplesPerSecond(name, cpu, seconds));
            if (usable) {
                try {
                    Executable gpu = program(name, cuda.get());
                    float[] gpuLoss = curve(name, gpu, steps);
                    double maxRel = maxRelativeDifference(cpuLoss, gpuLoss);
                    r.put("gpu_loss", toList(gpuLoss));
                    r.put("max_relative_loss_difference", num(maxRel));
                    r.put("curves_agree", maxRel <= CURVE_TOLERANCE);
                    r.put("gpu_samples_per_s", samplesPerSecond(name, gpu, seconds));
                } catch (RuntimeException e) {
                    r.put("gpu_error", e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            } else {
                r.put("gpu_error", "not run: the CUDA backend is not usable here: " + why);
            }
            results.put(name, r);
            System.out.println(line(name, r));
        }
        out.put("models", results);
        out.put("curve_tolerance", CURVE_TOLERANCE);
        if (a.containsKey("out")) Files.writeString(Path.of(a.get("out")), Json.write(out));
    }

    static String line(String name, Map<String, Object> r) {
        StringBuilder s = new StringBuilder(name).append(": cpu ").append(fmt(r.get("cpu_samples_per_s"))).append(" samples/s");
        if (r.containsKey("gpu_samples_per_s")) {
            s.append(", gpu ").append(fmt(r.get("gpu_samples_per_s"))).append(" samples/s, loss curves ")
                    .append(Boolean.TRUE.equals(r.get("curves_agree")) ? "agree" : "DIFFER").append(" (max relative difference ").append(r.get("max_relative_loss_difference")).append(" over ")
                    .append(r.get("steps")).append(" steps)");
        } else {
            s.append("; gpu: ").append(r.get("gpu_error"));
        }
        return s.toString();
    }

    private static String fmt(Object v) { return v instanceof Double d ? String.format("%.0f", d) : String.valueOf(v); }

    static Executable program(String name, Backend backend) {
        BenchModels.Spec spec = BenchModels.of(name);
        spec.model().backend(backend);
        return spec.model().trainingProgram(spec.batch());
    }

    /** Batch {@code step} of model {@code name}: inputs in [-1, 1), targets 0/1 for a sigmoid output, else in [-1, 1). */
    static float[][] batch(String name, int step) {
        BenchModels.Spec spec = BenchModels.of(name);
        SplittableRandom r = new SplittableRandom(1000L + step);
        int n = spec.batch();
        float[] x = new float[n * spec.input().size()], y = new float[n * Math.max(1, spec.target().size())];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < y.length; i++) y[i] = spec.classes() == 2 ? r.nextInt(2) : spec.classes() > 2 ? r.nextInt(spec.classes()) : (float) r.nextDouble(-1, 1);
        return new float[][] {x, y};
    }

    /** Feeds by name (Program.inputSlot), as the trainer does: the training graph's input order is not a contract. */
    private static void feed(Executable e, String name, float[][] xy, int step) {
        dev.kiln.compile.Program p = e.program();
        dev.kiln.nn.Model names = BenchModels.of(name).model();
        e.setInput(p.inputSlot(names.programInputName(0)), xy[0]);
        e.setInput(p.inputSlot(names.programTargetName(0)), xy[1]);
        e.setInput(p.inputSlot("lr"), new float[] {1e-3f});
        e.setInput(p.inputSlot("step"), new float[] {step});
    }

    /** The loss of each of {@code steps} training steps on batches 1..steps. */
    static float[] curve(String name, Executable e, int steps) {
        float[] loss = new float[steps];
        for (int s = 1; s <= steps; s++) {
            feed(e, name, batch(name, s), s);
            e.run();
            loss[s - 1] = e.outputScalar(0);
        }
        return loss;
    }

    /**
     * Training samples/s: a warm-up of at least 20 steps and {@code seconds} (the JIT compiles the CPU kernels, a
     * device backend loads its modules), then the median of three runs of at least {@code seconds} each.
     */
    static double samplesPerSecond(String name, Executable e, double seconds) {
        float[][] xy = batch(name, 1);
        int batch = BenchModels.of(name).batch();
        int step = 1;
        feed(e, name, xy, step);
        long w0 = System.nanoTime();
        for (int i = 0; i < 20 || System.nanoTime() - w0 < seconds * 1e9; i++) {
            e.setInput(e.program().inputSlot("step"), new float[] {step++});
            e.run();
            if (i % 16 == 15) e.outputScalar(0);
        }
        e.outputScalar(0);
        double[] rates = new double[3];
        for (int k = 0; k < rates.length; k++) {
            long t0 = System.nanoTime(), n = 0;
            do {
                e.setInput(e.program().inputSlot("step"), new float[] {step++});
                e.run();
                n++;
                if (n % 16 == 0) e.outputScalar(0);   // a device backend runs ahead; reading the loss waits for it
            } while ((System.nanoTime() - t0) < seconds * 1e9 || n % 16 != 0);
            rates[k] = n * batch / ((System.nanoTime() - t0) / 1e9);
        }
        Arrays.sort(rates);
        return rates[1];
    }

    static double maxRelativeDifference(float[] reference, float[] other) {
        double max = 0;
        for (int i = 0; i < reference.length; i++) {
            double d = Math.abs((double) other[i] - reference[i]) / Math.max(Math.abs((double) reference[i]), 1e-6);
            if (Double.isNaN(d)) return Double.NaN;
            max = Math.max(max, d);
        }
        return max;
    }

    /** JSON has no NaN or infinity: those are written as strings. */
    static Object num(double d) { return Double.isFinite(d) ? (Object) d : String.valueOf(d); }

    private static List<Object> toList(float[] v) {
        List<Object> l = new ArrayList<>(v.length);
        for (float f : v) l.add(num(f));
        return l;
    }
}
