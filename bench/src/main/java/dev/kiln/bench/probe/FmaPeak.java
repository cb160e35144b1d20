package dev.kiln.bench.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures this machine's sustained fp32 FMA peak with the Vector API, so that GEMM and conv
 * figures can be reported as a fraction of a peak that was measured, not assumed from a data sheet
 * (the same bench runs on Zen 4, whose 512-bit FMAs are double-pumped, and on Zen 5, whose are not).
 *
 * <p>The kernel keeps {@code chains} independent accumulators of the preferred species, each
 * updated by {@code acc = acc * a + b}: enough chains to cover FMA latency (4 cycles on recent x86)
 * times the number of FMA ports (2), so the loop is bound by FMA throughput alone. Variants with
 * 8, 12 and 16 chains are timed and the best counts, because the register file (16 ymm or 32 zmm)
 * decides which one runs without spills.
 *
 * <p>The clock is estimated from a dependent scalar chain {@code x = x * m + c}: one 64-bit
 * multiply (3 cycles) and one add (1 cycle) per step on every x86 core since Nehalem and Zen 1,
 * so steps × 4 / seconds ≈ cycles / second while that core is busy.
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector -cp bench/target/classes dev.kiln.bench.probe.FmaPeak
 * }</pre>
 */
public final class FmaPeak {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Loop trips per kernel call; small enough to call it many times, large enough to hide the call. */
    private static final int TRIPS = 1 << 16;
    private static final int CLOCK_CHAIN_CYCLES = 4;

    // Read from volatile fields so that the JIT cannot treat them as constants and fold the chains.
    private static volatile float mulSeed = 0.999_999f;
    private static volatile float addSeed = 1.0e-6f;
    private static volatile long clockMul = 0x9E37_79B9_7F4A_7C15L;
    private static volatile long clockAdd = 0x632B_E59B_D9B4_E019L;
    /** Results land here so that the JIT keeps the work that produced them. */
    private static volatile double sink;

    /** One measured figure: best and median over repetitions (interference only lowers a peak, so best counts). */
    public record Figure(double best, double median, int reps) {}

    /**
     * What the probe measured.
     *
     * @param cpuModel       /proc/cpuinfo's model name, read at run time
     * @param cores          processors this JVM may use
     * @param vectorBits     bit size of the preferred float species
     * @param chains         accumulator count of the best single-thread kernel
     * @param oneThread      GFLOP/s on one thread (an FMA counts two FLOPs)
     * @param allCores       GFLOP/s with one thread per usable processor, run together
     * @param clockGhz       estimated clock of a busy core, from the dependent multiply-add chain
     * @param flopsPerCycle  oneThread / clockGhz: FMA width × ports × 2, e.g. 32 on Zen 4, 64 on Zen 5
     */
    public record Result(String cpuModel, int cores, int vectorBits, int chains, Figure oneThread,
                         Figure allCores, Figure clockGhz, double flopsPerCycle) {

        /** cores × clock × FLOPs per cycle, the nominal peak the measured figures are compared with. */
        public double nominalPeakGflops() {
            return cores * clockGhz.best() * Math.round(flopsPerCycle);
        }

        public String toJson() {
            return String.format(Locale.ROOT, """
                    {"probe": "fma-peak", "cpu_model": "%s", "cores": %d, "java": "%s",
                     "vector_bits": %d, "lanes": %d, "chains": %d,
                     "one_thread_gflops": %s,
                     "all_cores_gflops": %s,
                     "clock_ghz_estimate": %s,
                     "flops_per_cycle_per_core": %.2f,
                     "nominal_peak_gflops": %.1f,
                     "notes": "best of reps counts (interference only lowers a peak); clock from a 4-cycle imul+add chain"}""",
                    cpuModel.replace("\\", "\\\\").replace("\"", "\\\""), cores, System.getProperty("java.version"),
                    vectorBits, vectorBits / 32, chains, json(oneThread), json(allCores), json(clockGhz),
                    flopsPerCycle, nominalPeakGflops());
        }

        private static String json(Figure f) {
            return String.format(Locale.ROOT, "{\"best\": %.2f, \"median\": %.2f, \"reps\": %d}", f.best(), f.median(), f.reps());
        }
    }

    private FmaPeak() {}

    /** Runs the whole probe; each repetition lasts about {@code repSeconds}. */
    public static Result measure(int reps, double repSeconds) throws InterruptedException {
        int cores = Runtime.getRuntime().availableProcessors();
        int[] chainVariants = {8, 12, 16};
        int bestChains = 12;
        Figure one = null;
        for (int chains : chainVariants) {
            warmUp(chains);
            Figure f = singleThread(chains, reps, repSeconds);
            if (one == null || f.best() > one.best()) {
                one = f;
                bestChains = chains;
            }
        }
        Figure all = allCores(bestChains, cores, reps, repSeconds);
        Figure clock = clock(reps, repSeconds);
        return new Result(cpuModel(), cores, SPECIES.vectorBitSize(), bestChains, one, all, clock,
                one.best() / clock.best());
    }

    public static void main(String[] args) throws InterruptedException {
        int reps = 5;
        double seconds = 0.2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; use --reps N --seconds S");
            }
        }
        System.out.println(measure(reps, seconds).toJson());
    }

    // ---- FMA kernels: flops per call = TRIPS × chains × lanes × 2 --------------------------------

    private static double kernel(int chains, int calls) {
        return switch (chains) {
            case 8 -> kernel8(calls);
            case 12 -> kernel12(calls);
            case 16 -> kernel16(calls);
            default -> throw new IllegalArgumentException("no FMA kernel with " + chains + " chains");
        };
    }

    private static double kernel8(int calls) {
        FloatVector a = FloatVector.broadcast(SPECIES, mulSeed), b = FloatVector.broadcast(SPECIES, addSeed);
        FloatVector c0 = b, c1 = b.add(b), c2 = c1.add(b), c3 = c2.add(b), c4 = c3.add(b), c5 = c4.add(b),
                c6 = c5.add(b), c7 = c6.add(b);
        for (int call = 0; call < calls; call++) {
            for (int i = 0; i < TRIPS; i++) {
                c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
                c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            }
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private static double kernel12(int calls) {
        FloatVector a = FloatVector.broadcast(SPECIES, mulSeed), b = FloatVector.broadcast(SPECIES, addSeed);
        FloatVector c0 = b, c1 = b.add(b), c2 = c1.add(b), c3 = c2.add(b), c4 = c3.add(b), c5 = c4.add(b),
                c6 = c5.add(b), c7 = c6.add(b), c8 = c7.add(b), c9 = c8.add(b), c10 = c9.add(b), c11 = c10.add(b);
        for (int call = 0; call < calls; call++) {
            for (int i = 0; i < TRIPS; i++) {
                c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
                c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
                c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
            }
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private static double kernel16(int calls) {
        FloatVector a = FloatVector.broadcast(SPECIES, mulSeed), b = FloatVector.broadcast(SPECIES, addSeed);
        FloatVector c0 = b, c1 = b.add(b), c2 = c1.add(b), c3 = c2.add(b), c4 = c3.add(b), c5 = c4.add(b),
                c6 = c5.add(b), c7 = c6.add(b), c8 = c7.add(b), c9 = c8.add(b), c10 = c9.add(b), c11 = c10.add(b),
                c12 = c11.add(b), c13 = c12.add(b), c14 = c13.add(b), c15 = c14.add(b);
        for (int call = 0; call < calls; call++) {
            for (int i = 0; i < TRIPS; i++) {
                c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
                c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
                c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
                c12 = c12.fma(a, b); c13 = c13.fma(a, b); c14 = c14.fma(a, b); c15 = c15.fma(a, b);
            }
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .add(c12).add(c13).add(c14).add(c15).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private static double flopsPerCall(int chains) {
        return 2.0 * TRIPS * chains * SPECIES.length();
    }

    /** Calls each kernel until C2 has compiled it (an interpreted Vector API loop is 100× slower). */
    private static void warmUp(int chains) {
        long end = System.nanoTime() + 300_000_000L;
        double s = 0;
        while (System.nanoTime() < end) {
            s += kernel(chains, 4);
        }
        sink = s;
    }

    /** Calls per repetition so that one repetition lasts about repSeconds. */
    private static int callsFor(int chains, double repSeconds) {
        long t = System.nanoTime();
        sink = kernel(chains, 4);
        double perCall = Math.max((System.nanoTime() - t) / 4e9, 1e-7);
        return (int) Math.max(1, Math.ceil(repSeconds / perCall));
    }

    private static Figure singleThread(int chains, int reps, double repSeconds) {
        int calls = callsFor(chains, repSeconds);
        double[] g = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t = System.nanoTime();
            sink = kernel(chains, calls);
            g[r] = calls * flopsPerCall(chains) / (System.nanoTime() - t);
        }
        return figure(g);
    }

    /** All threads start together at a barrier; the figure is their FLOPs over the slowest one's time. */
    private static Figure allCores(int chains, int threads, int reps, double repSeconds) throws InterruptedException {
        int calls = callsFor(chains, repSeconds);
        double[] g = new double[reps];
        for (int r = 0; r < reps; r++) {
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            List<Thread> workers = new ArrayList<>(threads);
            for (int i = 0; i < threads; i++) {
                Thread w = Thread.ofPlatform().name("fma-peak-" + i).start(() -> {
                    try {
                        warmUp(chains);
                        start.await();
                    } catch (Exception e) {
                        throw new IllegalStateException("FMA probe worker could not start", e);
                    }
                    sink = kernel(chains, calls);
                });
                workers.add(w);
            }
            try {
                start.await();
            } catch (java.util.concurrent.BrokenBarrierException e) {
                throw new IllegalStateException("FMA probe workers failed to start", e);
            }
            long t = System.nanoTime();
            for (Thread w : workers) {
                w.join();
            }
            g[r] = threads * calls * flopsPerCall(chains) / (System.nanoTime() - t);
        }
        return figure(g);
    }

    private static long clockChain(long steps) {
        long x = clockAdd, m = clockMul, c = clockAdd;
        for (long i = 0; i < steps; i++) {
            x = x * m + c;
        }
        return x;
    }

    private static Figure clock(int reps, double repSeconds) {
        long end = System.nanoTime() + 200_000_000L;
        while (System.nanoTime() < end) {
            sink = clockChain(1 << 20);
        }
        long t = System.nanoTime();
        sink = clockChain(1 << 24);
        long steps = (long) Math.max(1 << 20, (1 << 24) * repSeconds / Math.max((System.nanoTime() - t) / 1e9, 1e-6));
        double[] ghz = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            sink = clockChain(steps);
            ghz[r] = (double) steps * CLOCK_CHAIN_CYCLES / (System.nanoTime() - t0);
        }
        return figure(ghz);
    }

    private static Figure figure(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        return new Figure(v[v.length - 1], median, v.length);
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
            return System.getProperty("os.arch");
        } catch (IOException e) {
            return System.getProperty("os.arch") + " (no /proc/cpuinfo: " + e.getMessage() + ")";
        }
    }
}
