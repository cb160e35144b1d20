package dev.kiln.bench.jmh;

import dev.kiln.cpu.ElementwiseKernels;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.UnaryFn;
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
 * JMH: elementwise kernels, Vector API against the scalar twins: ReLU (M1–M4's activation), a contiguous ADD
 * (bias and residual adds) and the Adam update (every parameter, every step). Sizes: M1's 512×512 kernel and one
 * M3 activation (64·14·14·64). Run with the command in bench/README.md.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ElementwiseJmh {

    @Param({"262144", "802816"})
    public int n;

    @Param({"vector", "scalar"})
    public String impl;

    private ElementwiseKernels k;
    private float[] x, y, z, m, v;
    private long step;

    @Setup
    public void setup() {
        k = impl.equals("vector") ? ElementwiseKernels.best() : ElementwiseKernels.scalar();
        SplittableRandom r = new SplittableRandom(11);
        x = new float[n];
        y = new float[n];
        z = new float[n];
        m = new float[n];
        v = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (float) r.nextGaussian(); y[i] = (float) r.nextGaussian(); }
    }

    @Benchmark
    public float[] relu() {
        k.unary(UnaryFn.RELU, x, 0, z, 0, n);
        return z;
    }

    @Benchmark
    public float[] add() {
        k.binaryRun(BinaryFn.ADD, x, 0, 1, y, 0, 1, z, 0, n);
        return z;
    }

    @Benchmark
    public float[] adam() {
        // z is the parameter, x its gradient; the update rewrites z, m and v in place as in a training step.
        k.adamUpdate(z, 0, x, 0, m, 0, v, 0, n, 1e-3f, ++step, 0.9, 0.999, 1e-7, 0, false);
        return z;
    }
}
