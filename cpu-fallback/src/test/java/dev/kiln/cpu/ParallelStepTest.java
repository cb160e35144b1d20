package dev.kiln.cpu;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Program;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.kiln.cpu.Check.uniform;
import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Steps large enough to split across the worker pool give exactly what one thread gives. */
class ParallelStepTest {
    @Test
    void splitElementwiseStepsMatchTheScalarTwinsExactly() {
        Random r = new Random(41);
        // 301·307 = 92,407 elements: above PARALLEL_ELEMENTS, not a multiple of any chunk or of 4 (Philox blocks)
        Shape s = Shape.of(301, 307);
        assertTrue(s.size() >= CpuLowering.PARALLEL_ELEMENTS);
        Node x = input("x", s), bias = input("b", Shape.of(307)), step = input("step", Shape.SCALAR);
        float[] xv = uniform(r, s.size(), -2, 2), bv = uniform(r, 307, -1, 1), sv = {7};
        List<Node> nodes = List.of(relu(x), add(x, bias), mul(x, x), dropout(x, step, 0.3, 99L));
        for (Node n : nodes) {
            float[][] ins = n.inputs().size() == 1 ? new float[][] {xv}
                    : n.input(1) == bias ? new float[][] {xv, bv} : n.input(1) == step ? new float[][] {xv, sv} : new float[][] {xv, xv};
            float[] vec = new float[s.size()], scalar = new float[s.size()];
            new CpuBackend().evaluate(n, ins, vec);
            new CpuBackend(CpuKernels.scalar()).evaluate(n, ins, scalar);
            // relu, add, mul and dropout's keep-and-scale are single correctly rounded operations per element
            assertArrayEquals(scalar, vec, 0f, n.describe());
        }
    }

    @Test
    void aSecondDropoutOfTheSameMaskReplaysItInEveryStepAndADifferentSeedDoesNot() {
        Random r = new Random(42);
        Shape s = Shape.of(301, 307);
        Node x = input("x", s), g = input("g", s), step = input("step", Shape.SCALAR);
        // forward, its gradient (same rate, seed, step: replayed), and another layer's dropout (its own seed: drawn)
        Node fwd = dropout(x, step, 0.3, 99L), back = dropout(g, step, 0.3, 99L), other = dropout(g, step, 0.3, 100L);
        Program p = Compiler.compile(new Graph(List.of(fwd, back, other), List.of()), Compiler.Options.defaults().withInputs(List.of(x, g, step)));
        try (Executable e = new CpuBackend().compile(p)) {
            float[] xv = uniform(r, s.size(), -2, 2), gv = uniform(r, s.size(), -2, 2);
            e.setInput(0, xv);
            e.setInput(1, gv);
            for (float t : new float[] {3, 4}) { // a new step draws a new mask, and the replay follows it
                e.setInput(2, new float[] {t});
                e.run();
                float[] got = new float[s.size()];
                for (int o = 0; o < 3; o++) {
                    float[] src = o == 0 ? xv : gv, want = new float[s.size()];
                    ElementwiseKernels.scalar().dropout(src, 0, want, 0, s.size(), 0.3, o == 2 ? 100L : 99L, (long) t);
                    e.readOutput(o, got);
                    assertArrayEquals(want, got, 0f, "output " + o + " at step " + t);
                }
            }
        }
    }
}
