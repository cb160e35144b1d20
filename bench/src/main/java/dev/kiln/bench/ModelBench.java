package dev.kiln.bench;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.graph.Variable;
import dev.kiln.io.Json;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Kiln's side of {@code ./kiln bench}: training and inference throughput of M1–M4 in this JVM
 * (threads fixed by -Dkiln.threads at start), written as JSON records shaped like the PyTorch
 * peer's. Each figure: warm-up and at least {@code reps} timed runs by {@link Timed.Rule}, with busy-machine
 * reruns as {@link Timed} describes. Figures:
 * {@code train} (the model's own batch, or {@code --batch}), {@code train_bN}, {@code infer_bN}.
 *
 * <pre>java ... dev.kiln.bench.ModelBench --model M1,M2 --figures train,infer_b1,infer_b256 [--except M4:infer_b256] --result m.json</pre>
 */
public final class ModelBench {
    public static void main(String[] args) throws IOException {
        Map<String, String> a = Args.parse(args);
        List<String> models = List.of(a.getOrDefault("model", "M1").split(","));
        List<String> figures = List.of(a.getOrDefault("figures", "train,infer_b1,infer_b256").split(","));
        // model:figure pairs not to measure (quick mode's M4:infer_b256)
        List<String> except = a.containsKey("except") ? List.of(a.get("except").split(",")) : List.of();
        Timed timed = Timed.from(a, false);
        int batchOverride = Integer.parseInt(a.getOrDefault("batch", "0"));
        List<Object> records = new ArrayList<>();
        for (String model : models) {
            for (String figure : figures) {
                if (except.contains(model + ":" + figure)) continue;
                // A fresh model per figure: each starts from the same weights and optimizer state.
                BenchModels.Spec spec = BenchModels.of(model);
                boolean train = figure.startsWith("train");
                int batch = figure.equals("train") ? (batchOverride > 0 ? batchOverride : spec.batch())
                        : Integer.parseInt(figure.substring(figure.indexOf("_b") + 2));
                if (train) {
                    Executable e = spec.model().trainingProgram(batch);
                    Map<String, Object> rec = measure(model, figure, batch, trainStep(spec, batch, e), timed, true);
                    rec.putAll(memoryBudget(e));
                    records.add(rec);
                } else {
                    records.add(measure(model, figure, batch, inferStep(spec, batch), timed, false));
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("system", "kiln");
        out.put("threads", dev.kiln.cpu.WorkerPool.defaultThreads());
        out.put("records", records);
        Files.writeString(Path.of(a.get("result")), Json.write(out));
    }

    static Runnable trainStep(BenchModels.Spec spec, int batch) { return trainStep(spec, batch, spec.model().trainingProgram(batch)); }

    /** A training step of {@code e}, the training program of {@code spec}'s model at {@code batch}, on fixed random data. */
    static Runnable trainStep(BenchModels.Spec spec, int batch, Executable e) {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[batch * spec.input().size()], y = new float[batch * Math.max(1, spec.target().size())];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < y.length; i++) y[i] = spec.classes() == 0 ? (float) r.nextDouble(-1, 1) : r.nextInt(spec.classes());
        float[] lr = {1e-3f}, step = {0};
        // by name, as the trainer feeds them (Program.inputSlot): the training graph's input order is not a contract
        dev.kiln.compile.Program p = e.program();
        int xSlot = p.inputSlot(spec.model().programInputName(0)), ySlot = p.inputSlot(spec.model().programTargetName(0));
        int stepSlot = p.inputSlot("step");
        e.setInput(xSlot, x);
        e.setInput(ySlot, y);
        e.setInput(p.inputSlot("lr"), lr);
        return () -> {
            step[0]++;
            e.setInput(stepSlot, step);
            e.run();
        };
    }

    static Runnable inferStep(BenchModels.Spec spec, int batch) {
        Executable e = spec.model().predictionProgram(batch);
        SplittableRandom r = new SplittableRandom(4);
        float[] x = new float[batch * spec.input().size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        int xSlot = e.program().inputSlot(spec.model().programInputName(0));
        return () -> {
            e.setInput(xSlot, x);
            e.run();
        };
    }

    /**
     * The parts of issue 10's training memory budget, in bytes: {@code variable_bytes} (weights, optimizer slots,
     * moving statistics), {@code arena_bytes} (activations, gradients, temporaries), {@code workspace_bytes} (the
     * backend's scratch, {@link Executable#workspaceBytes()}), and {@code budget_bytes} = 2 × their sum.
     */
    static Map<String, Object> memoryBudget(Executable e) {
        Program p = e.program();
        long variables = 0;
        for (Variable v : p.variables()) variables += 4L * v.shape().size();
        long arena = 4L * p.arenaSize(), workspace = e.workspaceBytes();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("variable_bytes", variables);
        m.put("arena_bytes", arena);
        m.put("workspace_bytes", workspace);
        m.put("budget_bytes", 2 * (variables + arena + workspace));
        return m;
    }

    /** Sum of the heap pools' used bytes at their peak since the last {@link #resetHeapPeaks()}. */
    static long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) sum += pool.getPeakUsage().getUsed();
        }
        return sum;
    }

    static void resetHeapPeaks() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) pool.resetPeakUsage();
        }
    }

    /**
     * Warm-up and timed runs by {@link Timed.Rule}, in samples per second. With {@code heap}, the record also holds
     * {@code peak_heap_bytes}, the peak of the heap pools over the timed runs (started after a GC, so garbage from
     * building the model does not count; the sum of per-pool peaks bounds the true peak from above), and
     * {@code live_heap_bytes}, the heap in use after a GC once they end.
     */
    static Map<String, Object> measure(String model, String figure, int batch, Runnable step, Timed timed, boolean heap) {
        Map<String, Object> rec = timed.samplesPerSecond(model, figure, batch, step, () -> {
            if (heap) {
                System.gc();
                resetHeapPeaks();
            }
        });
        if (heap) {
            rec.put("peak_heap_bytes", peakHeapBytes());
            System.gc();
            rec.put("live_heap_bytes", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return rec;
    }
}
