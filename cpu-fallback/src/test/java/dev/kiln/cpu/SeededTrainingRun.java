package dev.kiln.cpu;

import dev.kiln.data.Dataset;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.BufferedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The child JVM of {@link SeededTrainingDeterminismTest}: trains the issue-14 model (20 → Dense 256 ReLU → Dropout 0.2
 * → Dense 256 ReLU → Dense 1, MSE, Adam) first in this cold JVM, before C2 has compiled any kernel, then again after
 * warm-up, then twice at once on two threads, then straight versus saved-and-resumed, and writes each run's weights
 * (and Adam slots) as raw float bits to files in the directory given as the only argument. The parent compares them.
 *
 * <p>Run by hand: {@code java --add-modules jdk.incubator.vector -Dkiln.threads=2 -cp <test class path>
 * dev.kiln.cpu.SeededTrainingRun /tmp/out}.
 */
public final class SeededTrainingRun {
    static final int ROWS = 512, FEATURES = 20, BATCH = 128, EPOCHS = 3;
    /**
     * Epochs (4 steps each) of the training run between the cold run and the warm one. With the parent's
     * CompileThresholdScaling=0.1 a kernel called twice a step (the bias gradient's sum) passes C2's threshold after
     * ~250 steps; 1,000 leave room for a busy compile queue. Not a check for named methods: C2 inlines kernels into
     * their callers, so which method holds the compiled code varies.
     */
    static final int WARM_UP_EPOCHS = 250;

    private SeededTrainingRun() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        Dataset data = data();
        // first thing this JVM does: the kernels run in the interpreter and C1, C2 compiles them part-way through
        long start = System.nanoTime();
        write(out.resolve("cold.bin"), state(train(data, EPOCHS)));
        System.out.println("cold run: " + (System.nanoTime() - start) / 1_000_000 + " ms");

        long t0 = System.nanoTime();
        train(data, WARM_UP_EPOCHS);
        String compiled = compiledKernels();
        Files.writeString(out.resolve("compiled.txt"), compiled);
        System.out.println("warm-up: " + WARM_UP_EPOCHS + " epochs in " + (System.nanoTime() - t0) / 1_000_000 + " ms; "
                + compiled.lines().filter(l -> l.split(" ")[1].equals("4")).count() + " C2 compilations of dev.kiln.cpu methods");
        write(out.resolve("warm.bin"), state(train(data, EPOCHS)));

        // two models at once: both step kernels call the shared pool, so one of them runs its kernels inline
        float[][] both = new float[2][];
        List<Thread> threads = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        for (int t = 0; t < 2; t++) {
            int slot = t;
            Thread th = new Thread(() -> {
                try { both[slot] = state(train(data, EPOCHS)); }
                catch (Throwable e) { synchronized (failure) { failure[0] = e; } }
            }, "trainer-" + t);
            threads.add(th);
        }
        for (Thread th : threads) th.start();
        for (Thread th : threads) th.join();
        if (failure[0] != null) throw new IllegalStateException("a concurrent training run failed", failure[0]);
        write(out.resolve("concurrent-0.bin"), both[0]);
        write(out.resolve("concurrent-1.bin"), both[1]);

        // exact resume after warm-up: EPOCHS epochs, save, load, EPOCHS more, against 2·EPOCHS straight
        Model straight = train(data, 2 * EPOCHS);
        Model first = train(data, EPOCHS);
        Path file = out.resolve("half.safetensors");
        first.save(file);
        Model resumed = compiled(Model.load(file));
        resumed.fit(data, fit(2 * EPOCHS).initialEpoch(EPOCHS));
        System.out.println("total: " + (System.nanoTime() - start) / 1_000_000 + " ms");
        write(out.resolve("straight.bin"), state(straight));
        write(out.resolve("resumed.bin"), state(resumed));
    }

    /** y = Σ_j sin(x_j)·(j + 1) / 20 over Gaussian x: a smooth target, fixed by the seed. */
    static Dataset data() {
        SplittableRandom r = new SplittableRandom(14);
        float[] x = new float[ROWS * FEATURES], y = new float[ROWS];
        for (int i = 0; i < ROWS; i++) {
            double t = 0;
            for (int j = 0; j < FEATURES; j++) {
                float v = (float) r.nextGaussian();
                x[i * FEATURES + j] = v;
                t += Math.sin(v) * (j + 1) / FEATURES;
            }
            y[i] = (float) t;
        }
        return Dataset.of(x, Shape.of(ROWS, FEATURES), y, Shape.of(ROWS, 1));
    }

    static Model model() {
        return compiled(Sequential.of(Input.shape(FEATURES), Dense.of(256).relu(), Dropout.of(0.2), Dense.of(256).relu(), Dense.of(1)).seed(3));
    }

    static Model compiled(Model m) {
        m.backend(new CpuBackend());
        m.compile(Adam.lr(1e-3), Loss.mse());
        return m;
    }

    static Fit fit(int epochs) { return Fit.epochs(epochs).batchSize(BATCH).seed(5).verbose(false); }

    static Model train(Dataset data, int epochs) {
        Model m = model();
        m.fit(data, fit(epochs));
        return m;
    }

    /** Every weight in order, then every optimizer slot by name (the slot list's order is not fixed). */
    static float[] state(Model m) {
        List<float[]> parts = new ArrayList<>();
        for (Variable v : m.weights()) parts.add(v.value());
        List<Variable> slots = new ArrayList<>(m.optimizer().slots());
        slots.sort(java.util.Comparator.comparing(Variable::name));
        for (Variable v : slots) parts.add(v.value());
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] all = new float[n];
        int at = 0;
        for (float[] p : parts) { System.arraycopy(p, 0, all, at, p.length); at += p.length; }
        return all;
    }

    /** The code cache's list ("id level state method ...") of methods of this package, as jcmd Compiler.codelist prints it. */
    static String compiledKernels() throws Exception {
        String all = (String) java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(
                new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerCodelist",
                new Object[] {null}, new String[] {String[].class.getName()});
        StringBuilder sb = new StringBuilder();
        for (String line : all.split("\n")) if (line.contains(" dev.kiln.cpu.")) sb.append(line).append('\n');
        return sb.toString();
    }

    static void write(Path file, float[] values) throws IOException {
        try (DataOutputStream s = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            s.writeInt(values.length);
            for (float v : values) s.writeInt(Float.floatToRawIntBits(v));
        }
    }
}
