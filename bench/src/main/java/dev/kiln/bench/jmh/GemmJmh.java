package dev.kiln.bench.jmh;

import dev.kiln.cpu.Gemm;
import dev.kiln.cpu.GemmScalar;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * JMH: {@link Gemm#gemm} against its scalar twin on square and model (M1 Dense, M3 conv im2col) shapes.
 * Time per call; GFLOP/s = 2·m·n·k / time. Threads: -Dkiln.threads in {@code -jvmArgsAppend}.
 * Run with the command in bench/README.md, e.g. {@code ... org.openjdk.jmh.Main GemmJmh -p shape=512x512x512}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmJmh {

    /** m×n×k: squares, M1's 512→512 Dense at batch 256, M3's 64→64 3×3 conv as im2col. */
    @Param({"256x256x256", "512x512x512", "256x512x512", "12544x64x576"})
    public String shape;

    private int m, n, k;
    private float[] a, b, c;

    private final dev.kiln.cpu.WorkerPool pool = new dev.kiln.cpu.WorkerPool(dev.kiln.cpu.WorkerPool.defaultThreads());

    @Setup
    public void setup() {
        String[] p = shape.split("x");
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        k = Integer.parseInt(p[2]);
        SplittableRandom r = new SplittableRandom(7);
        a = new float[m * k];
        b = new float[k * n];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
    }

    @Benchmark
    public float[] vector() {
        Gemm.gemm(pool, false, false, m, n, k, a, 0, k, b, 0, n, c, 0, n, false);
        return c;
    }

    @Benchmark
    public float[] scalar() {
        GemmScalar.gemm(false, false, m, n, k, a, 0, k, b, 0, n, c, 0, n, false);
        return c;
    }
}
