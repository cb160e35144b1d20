package dev.kiln.bench;

import dev.kiln.backend.Executable;
import dev.kiln.io.Json;
import dev.kiln.nn.Model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Kiln's side of {@code ./kiln bench}: training and inference throughput of M1–M4 in this JVM
 * (threads fixed by -Dkiln.threads at start), written as JSON records shaped like the PyTorch
 * peer's. Each figure: warm-up, then at least {@code reps} timed runs of about
 * {@code runSeconds}; a run during which other processes used more than {@code busy} of the
 * machine is discarded and rerun (counted).
 *
 * <pre>java ... dev.kiln.bench.ModelBench --model M1 --figures train,infer_b1,infer_b256 --result m1.json</pre>
 */
public final class ModelBench {
    public static void main(String[] args) throws IOException {
        Map<String, String> a = Args.parse(args);
        String model = a.getOrDefault("model", "M1");
        List<String> figures = List.of(a.getOrDefault("figures", "train,infer_b1,infer_b256").split(","));
        double runSeconds = Double.parseDouble(a.getOrDefault("run-seconds", "0.5"));
        double warmupSeconds = Double.parseDouble(a.getOrDefault("warmup-seconds", "1.0"));
        int reps = Math.max(3, Integer.parseInt(a.getOrDefault("reps", "3")));
        int maxReruns = Integer.parseInt(a.getOrDefault("max-reruns", "5"));
        double busy = Double.parseDouble(a.getOrDefault("busy-threshold", "0.10"));
        int batchOverride = Integer.parseInt(a.getOrDefault("batch", "0"));
        List<Object> records = new ArrayList<>();
        for (String figure : figures) {
            BenchModels.Spec spec = BenchModels.of(model);
            int batch = figure.equals("train") ? (batchOverride > 0 ? batchOverride : spec.batch()) : Integer.parseInt(figure.substring("infer_b".length()));
            Runnable step = figure.equals("train") ? trainStep(spec, batch) : inferStep(spec, batch);
            records.add(measure(model, figure, batch, step, warmupSeconds, runSeconds, reps, maxReruns, busy));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("system", "kiln");
        out.put("threads", dev.kiln.cpu.WorkerPool.shared().threads());
        out.put("records", records);
        Files.writeString(Path.of(a.get("result")), Json.write(out));
    }

    static Runnable trainStep(BenchModels.Spec spec, int batch) {
        Model m = spec.model();
        Executable e = m.trainingProgram(batch);
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[batch * spec.input().size()], y = new float[batch * Math.max(1, spec.target().size())];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < y.length; i++) y[i] = spec.classes() == 0 ? (float) r.nextDouble(-1, 1) : r.nextInt(spec.classes());
        float[] lr = {1e-3f}, step = {0};
        e.setInput(0, x);
        e.setInput(1, y);
        e.setInput(2, lr);
        return () -> {
            step[0]++;
            e.setInput(3, step);
            e.run();
        };
    }

    static Runnable inferStep(BenchModels.Spec spec, int batch) {
        Executable e = spec.model().predictionProgram(batch);
        SplittableRandom r = new SplittableRandom(4);
        float[] x = new float[batch * spec.input().size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        return () -> {
            e.setInput(0, x);
            e.run();
        };
    }

    static Map<String, Object> measure(String model, String figure, int batch, Runnable step, double warmupSeconds, double runSeconds,
                                       int reps, int maxReruns, double busy) {
        long end = System.nanoTime() + (long) (warmupSeconds * 1e9);
        int warm = 0;
        do { step.run(); warm++; } while (System.nanoTime() < end || warm < 3);
        List<Double> rates = new ArrayList<>();
        int reruns = 0;
        while (rates.size() < reps) {
            CpuLoad before = CpuLoad.now();
            long t0 = System.nanoTime(), stop = t0 + (long) (runSeconds * 1e9), t1;
            int steps = 0;
            do { step.run(); steps++; t1 = System.nanoTime(); } while (t1 < stop);
            double others = CpuLoad.now().othersSince(before);
            if (others > busy && reruns < maxReruns) { reruns++; continue; }
            rates.add(steps * (double) batch / ((t1 - t0) / 1e9));
        }
        double[] sorted = rates.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("model", model);
        rec.put("figure", figure);
        rec.put("batch", batch);
        rec.put("median", sorted[sorted.length / 2]);
        rec.put("min", sorted[0]);
        rec.put("max", sorted[sorted.length - 1]);
        rec.put("runs", Arrays.stream(sorted).boxed().toList());
        rec.put("reruns", reruns);
        return rec;
    }
}
