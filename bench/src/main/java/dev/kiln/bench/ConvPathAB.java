package dev.kiln.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * A/B of the CPU convolution paths on one model figure in one JVM: a program compiled with
 * {@code kiln.cpu.winograd=false} (implicit GEMM) and one with Winograd where it applies, run in alternating rounds;
 * prints the median ms per step of each and the ratio. Times are the calling thread's CPU time, which other
 * processes on a shared machine disturb far less than wall time; use {@code -Dkiln.threads=1} so that one thread
 * does all the work ({@code -Dwall=true} for wall time instead).
 *
 * <pre>java ... dev.kiln.bench.ConvPathAB M3 train 10 3      # model, figure (train | infer_bN), rounds, steps a round</pre>
 */
public final class ConvPathAB {
    public static void main(String[] args) {
        String model = args[0], figure = args[1];
        int rounds = Integer.parseInt(args[2]), steps = Integer.parseInt(args[3]);
        boolean wall = Boolean.getBoolean("wall");
        Runnable[] variants = new Runnable[2];
        for (int i = 0; i < 2; i++) {
            // read by each convolution kernel as it is prepared, so the two programs differ only in this
            System.setProperty("kiln.cpu.winograd", i == 0 ? "false" : "true");
            BenchModels.Spec spec = BenchModels.of(model);
            boolean train = figure.startsWith("train");
            int batch = train ? spec.batch() : Integer.parseInt(figure.substring(figure.indexOf("_b") + 2));
            variants[i] = train ? ModelBench.trainStep(spec, batch) : ModelBench.inferStep(spec, batch);
        }
        System.clearProperty("kiln.cpu.winograd");
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int w = 0; w < 3 * steps; w++) { variants[0].run(); variants[1].run(); }   // JIT warm-up of both
        double[][] ms = new double[2][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < 2; k++) {
                int v = r % 2 == 0 ? k : 1 - k;   // alternate which goes first
                long t0 = wall ? System.nanoTime() : threads.getCurrentThreadCpuTime();
                for (int s = 0; s < steps; s++) variants[v].run();
                ms[v][r] = ((wall ? System.nanoTime() : threads.getCurrentThreadCpuTime()) - t0) / 1e6 / steps;
            }
        }
        double direct = median(ms[0]), winograd = median(ms[1]);
        System.out.printf("%s %s: implicit GEMM %.2f ms/step, Winograd %.2f ms/step, ratio %.3f (%s time, medians of %d rounds)%n",
                model, figure, direct, winograd, direct / winograd, wall ? "wall" : "thread CPU", rounds);
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
