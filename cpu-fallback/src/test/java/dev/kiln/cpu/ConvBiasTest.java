package dev.kiln.cpu;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Program;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.ConvBias;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.kiln.cpu.Check.uniform;
import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

/** The fused conv + bias + activation op ({@link ConvBias}) on the CPU paths against the double-precision interpreter. */
class ConvBiasTest {
    /** {x shape, kernel, filters, groups, stride, padding}: every forward path (implicit GEMM, im2col, pointwise) and tile edge. */
    record Case(Shape x, int kernel, int filters, int groups, int stride, Padding padding) {}

    static final List<Case> CASES = List.of(
            new Case(Shape.of(2, 7, 9, 3), 3, 5, 1, 1, Padding.SAME),       // packed filter, one narrow sliver
            new Case(Shape.of(1, 5, 6, 7), 3, 37, 1, 1, Padding.SAME),      // a tail sliver, 30 pixels: edge pixel tiles
            new Case(Shape.of(2, 9, 9, 3), 3, 64, 1, 1, Padding.SAME),      // filter read in place, whole tiles
            new Case(Shape.of(2, 6, 5, 6), 3, 20, 2, 1, Padding.SAME),      // groups on the implicit GEMM: bias per group
            new Case(Shape.of(2, 9, 7, 6), 3, 6, 6, 1, Padding.SAME),       // depthwise: im2col + Gemm epilogue per group
            new Case(Shape.of(2, 5, 5, 8), 1, 7, 1, 1, Padding.VALID),      // pointwise: plain Gemm with bias
            new Case(Shape.of(1, 9, 8, 4), 3, 33, 1, 2, Padding.VALID));    // stride 2

    @Test
    void convBiasMatchesInterpreterOnVectorAndScalarPaths() {
        Random r = new Random(23);
        for (Case c : CASES) for (Epilogue.Activation act : Epilogue.Activation.values()) {
            int cin = c.x().dim(3) / c.groups();
            Shape ws = Shape.of(c.kernel(), c.kernel(), cin, c.filters());
            Node x = input("x", c.x()), w = input("w", ws), bias = input("bias", Shape.of(c.filters()));
            Conv2d conv = new Conv2d(c.stride(), c.stride(), c.padding(), 1, 1, c.groups());
            Node y = node(new ConvBias(conv, act), x, w, bias);
            float[] xv = uniform(r, c.x().size(), -1, 1), wv = uniform(r, ws.size(), -1, 1), bv = uniform(r, c.filters(), -1, 1);
            double[] expected = new Interpreter().evaluate(y, Map.of(x, doubles(xv), w, doubles(wv), bias, doubles(bv)));
            int k = c.kernel() * c.kernel() * cin;
            // sums of K products of values in [-1, 1) plus a bias: float rounding stays well below 1e-5·K (Conv2dKernelTest)
            double tol = 1e-5 * k + 1e-6;
            boolean sawNegative = false;
            for (CpuBackend backend : List.of(new CpuBackend(), new CpuBackend(CpuKernels.scalar()))) {
                float[] out = new float[y.shape().size()];
                backend.evaluate(y, new float[][] {xv, wv, bv}, out);
                for (int i = 0; i < out.length; i++) {
                    if (Math.abs(out[i] - expected[i]) > tol) {
                        fail(backend.kernels().name() + " " + y.describe() + " " + c + ": element " + i + " expected " + expected[i] + " was " + out[i]);
                    }
                    sawNegative |= expected[i] < 0;
                }
            }
            if (act == Epilogue.Activation.NONE) assertTrue(sawNegative, "a case without activation should have negative outputs: " + c);
        }
    }

    @Test
    void compiledConvTrainingStepFusesBiasAndReluAndMatchesInterpreter() {
        Random r = new Random(29);
        Shape xs = Shape.of(2, 7, 6, 3), ws = Shape.of(3, 3, 3, 37);
        Variable wv = new Variable("w", ws, uniform(r, ws.size(), -1, 1), true);
        Variable bv = new Variable("b", Shape.of(37), uniform(r, 37, -0.5, 0.5), true);
        Node x = input("x", xs), t = input("t", Shape.of(2, 7, 6, 37));
        Node w = param(wv), b = param(bv);
        Node h = relu(add(conv2d(x, w, Conv2d.of(1, Padding.SAME)), b));
        Node loss = sumAll(mul(h, t));
        List<Node> grads = Autodiff.gradients(loss, List.of(w, b, x));
        List<Node> outs = List.of(loss, grads.get(0), grads.get(1), grads.get(2));
        Program p = Compiler.compile(new Graph(outs, List.of()), Compiler.Options.defaults().withInputs(List.of(x, t)));
        assertTrue(p.dump().contains("conv2d_bias_relu"), "the forward conv, bias and relu should be one instruction:\n" + p.dump());

        float[] xf = uniform(r, xs.size(), -1, 1), tf = uniform(r, 2 * 7 * 6 * 37, -1, 1);
        Map<Node, double[]> feeds = Map.of(x, doubles(xf), t, doubles(tf));
        Executable e = new CpuBackend().compile(p);
        e.setInput(0, xf);
        e.setInput(1, tf);
        e.run();
        for (int o = 0; o < outs.size(); o++) {
            double[] expected = new Interpreter().evaluate(outs.get(o), feeds);
            float[] actual = new float[expected.length];
            e.readOutput(o, actual);
            // each value sums at most 2·7·6·37 products of values in [-1, 1): 1e-5 per term of float rounding is ample
            double tol = 1e-5 * 2 * 7 * 6 * 37;
            for (int i = 0; i < actual.length; i++) {
                assertEquals(expected[i], actual[i], tol, "output " + o + " (" + outs.get(o).describe() + ") at " + i);
            }
        }
    }

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
