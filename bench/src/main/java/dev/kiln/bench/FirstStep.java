package dev.kiln.bench;

import dev.kiln.backend.Executable;
import dev.kiln.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Time to the end of M1's first training step in a fresh JVM: built with the layer API, compiled with Adam(1e-3), one
 * step at batch 256. Prints {@code STEP-DONE} the moment the step ends, so the parent can time spawn → line the way it
 * times the PyTorch peer's first step; also writes, measured inside, the time since the JVM's start instant
 * ({@code ProcessHandle.current().info().startInstant()}, clock-tick resolution) and where it went.
 *
 * <p>{@code --steps N} runs N steps (default 1; the launcher's AOT-cache training run uses 3), {@code --print-loss}
 * prints each step's loss as its float bits (the AOT-cache test compares them across JVMs), and {@code --result} is
 * optional.
 *
 * <pre>java ... dev.kiln.bench.FirstStep --result first.json</pre>
 */
public final class FirstStep {
    private FirstStep() {}

    public static void main(String[] args) throws IOException {
        long t0 = System.nanoTime();
        Map<String, String> a = Args.parse(args);
        BenchModels.Spec spec = BenchModels.of(a.getOrDefault("model", "M1"));
        long t1 = System.nanoTime();
        int batch = spec.batch();
        Executable e = spec.model().trainingProgram(batch);
        long t2 = System.nanoTime();
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[batch * spec.input().size()], y = new float[batch * Math.max(1, spec.target().size())];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < y.length; i++) y[i] = (float) r.nextDouble(-1, 1);
        dev.kiln.compile.Program p = e.program();
        int stepSlot = p.inputSlot("step");
        e.setInput(p.inputSlot(spec.model().programInputName(0)), x);
        e.setInput(p.inputSlot(spec.model().programTargetName(0)), y);
        e.setInput(p.inputSlot("lr"), new float[] {1e-3f});
        e.setInput(stepSlot, new float[] {1});
        e.run();
        long t3 = System.nanoTime();
        Instant end = Instant.now();
        System.out.println("STEP-DONE");
        System.out.flush();
        boolean printLoss = a.containsKey("print-loss");
        if (printLoss) System.out.println("loss 1 " + Integer.toHexString(Float.floatToRawIntBits(e.outputScalar(0))));
        int steps = Integer.parseInt(a.getOrDefault("steps", "1"));
        for (int step = 2; step <= steps; step++) {
            e.setInput(stepSlot, new float[] {step});
            e.run();
            if (printLoss) System.out.println("loss " + step + " " + Integer.toHexString(Float.floatToRawIntBits(e.outputScalar(0))));
        }
        if (!a.containsKey("result")) return;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("since_jvm_start_s", ProcessHandle.current().info().startInstant()
                .map(s -> Duration.between(s, end).toNanos() / 1e9).orElse(Double.NaN));
        out.put("jvm_start_to_main_s", ProcessHandle.current().info().startInstant()
                .map(s -> Duration.between(s, end).toNanos() / 1e9 - (t3 - t0) / 1e9).orElse(Double.NaN));
        out.put("build_s", (t1 - t0) / 1e9);
        out.put("compile_s", (t2 - t1) / 1e9);
        out.put("step_s", (t3 - t2) / 1e9);
        Files.writeString(Path.of(a.get("result")), Json.write(out));
    }
}
