package dev.kiln.cpu;

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
            new CpuBackend(ElementwiseKernels.scalar()).evaluate(n, ins, scalar);
            // relu, add, mul and dropout's keep-and-scale are single correctly rounded operations per element
            assertArrayEquals(scalar, vec, 0f, n.describe());
        }
    }
}
