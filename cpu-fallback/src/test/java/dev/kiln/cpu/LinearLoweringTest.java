package dev.kiln.cpu;

import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Linear;
import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.kiln.cpu.Check.uniform;
import static dev.kiln.graph.Ops.input;
import static dev.kiln.graph.Ops.node;
import static org.junit.jupiter.api.Assertions.fail;

/** The Linear op on the vector and scalar CPU paths against the double-precision interpreter. */
class LinearLoweringTest {
    @Test
    void linearMatchesInterpreterOnVectorAndScalarPaths() {
        Random r = new Random(17);
        // {batch rows, k, n}: batch-1 GEMV, n = 1 dot products, odd sizes, M2/M1 layer shapes, a batched operand
        int[][] shapes = {{1, 11, 512}, {1, 512, 1}, {3, 17, 33}, {37, 63, 256}, {256, 512, 1}, {5, 7, 1}, {2, 300, 40}};
        for (int[] s : shapes) for (Epilogue.Activation act : Epilogue.Activation.values()) for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            int m = s[0], k = s[1], n = s[2];
            Shape sa = ta ? Shape.of(k, m) : Shape.of(m, k), sb = tb ? Shape.of(n, k) : Shape.of(k, n);
            if (m == 2) sa = ta ? Shape.of(3, k, m) : Shape.of(3, m, k);  // batched A, shared B
            Node a = input("a", sa), b = input("b", sb), bias = input("bias", Shape.of(n));
            Node y = node(new Linear(ta, tb, act), a, b, bias);
            float[] av = uniform(r, sa.size(), -1, 1), bv = uniform(r, sb.size(), -1, 1), biasv = uniform(r, n, -1, 1);
            double[] expected = new Interpreter().evaluate(y, Map.of(a, doubles(av), b, doubles(bv), bias, doubles(biasv)));
            for (CpuBackend backend : List.of(new CpuBackend(), new CpuBackend(CpuKernels.scalar()))) {
                float[] out = new float[y.shape().size()];
                backend.evaluate(y, new float[][] {av, bv, biasv}, out);
                // float sums of k products of values in [-1, 1]: error grows like sqrt(k)·eps·k at worst
                double tol = 2e-7 * k * Math.sqrt(k) + 1e-6;
                for (int i = 0; i < out.length; i++) {
                    if (Math.abs(out[i] - expected[i]) > tol) {
                        fail(backend.kernels().name() + " " + y.describe() + " " + sa + "·" + sb + ": element " + i + " expected " + expected[i] + " was " + out[i]);
                    }
                }
            }
        }
    }

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
