package dev.kiln.cpu;

import dev.kiln.graph.Binary;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Node;
import dev.kiln.graph.Where;
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
        Node var = input("v", Shape.of(307));
        float[] xv = uniform(r, s.size(), -2, 2), bv = uniform(r, 307, -1, 1), sv = {7}, vv = uniform(r, 307, 0.1, 2);
        // (x·b + x) > b ? x : b, with the bias broadcast over rows: a fused loop whose parts gather the broadcast operand
        Fused chain = new Fused(List.of(
                new Fused.Step(new Binary(BinaryFn.MUL), List.of(0, 1)),
                new Fused.Step(new Binary(BinaryFn.ADD), List.of(2, 0)),
                new Fused.Step(new Binary(BinaryFn.GREATER), List.of(3, 1)),
                new Fused.Step(new Where(), List.of(4, 0, 1))), s);
        List<Node> nodes = List.of(relu(x), add(x, bias), mul(x, x), dropout(x, step, 0.3, 99L), node(chain, x, bias),
                batchNorm(x, bias, var, var, bias, 1e-3));
        for (Node n : nodes) {
            float[][] ins = n.inputs().size() == 5 ? new float[][] {xv, bv, vv, vv, bv} : n.inputs().size() == 1 ? new float[][] {xv}
                    : n.input(1) == bias ? new float[][] {xv, bv} : n.input(1) == step ? new float[][] {xv, sv} : new float[][] {xv, xv};
            float[] vec = new float[s.size()], scalar = new float[s.size()];
            new CpuBackend().evaluate(n, ins, vec);
            new CpuBackend(ElementwiseKernels.scalar()).evaluate(n, ins, scalar);
            // relu, add, mul and dropout's keep-and-scale are single correctly rounded operations per element; the fused
            // loop and batch norm run the same per-element formula whichever part holds the element
            assertArrayEquals(scalar, vec, 0f, n.describe());
        }
    }
}
