package dev.kiln.compile;

import dev.kiln.graph.Graph;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class CommonSubexpressionEliminationTest {
    private final Pass cse = new CommonSubexpressionElimination();

    private static long count(Graph g, Class<?> op) {
        return g.schedule().stream().filter(n -> op.isInstance(n.op())).count();
    }

    @Test
    void twoIdenticalMatmulsBecomeOne() {
        Random r = new Random(1);
        Node x = input("x", Shape.of(4, 3));
        Node w = param(GraphFixtures.variable("w", Shape.of(3, 5), r));
        Graph g = Graph.of(add(matmul(x, w), matmul(x, w)));
        Graph h = cse.run(g);
        Verifier.verify(cse.name(), g, h);
        assertEquals(2, count(g, MatMul.class));
        assertEquals(1, count(h, MatMul.class));
        Node sum = h.outputs().get(0);
        assertSame(sum.input(0), sum.input(1), "both operands of the add are the one matmul");
        GraphFixtures.assertSameValues(g, h, GraphFixtures.randomFeeds(g, 2), 1e-12);
    }

    @Test
    void equalSubtreesCollapseBottomUpAndParamsOfOneVariableMerge() {
        Random r = new Random(3);
        var v = GraphFixtures.variable("w", Shape.of(3, 3), r);
        Node x = input("x", Shape.of(2, 3));
        Node a = relu(matmul(x, param(v)));
        Node b = relu(matmul(x, param(v)));
        Graph h = cse.run(Graph.of(sub(a, b)));
        // x, one param, matmul, relu, sub
        assertEquals(5, h.size());
    }

    @Test
    void differentAttributesOrConstantsStayApart() {
        Node x = input("x", Shape.of(3, 3));
        Node c1 = constant(Shape.of(3), new float[] {1, 2, 3});
        Node c2 = constant(Shape.of(3), new float[] {1, 2, 3});
        Graph g = new Graph(java.util.List.of(matmul(x, x), matmul(x, x, true, false), add(x, c1), add(x, c2)), java.util.List.of());
        Graph h = cse.run(g);
        assertSame(g, h, "nothing to merge: the pass returns its argument");
        assertEquals(2, count(h, dev.kiln.graph.Constant.class), "constants compare by identity");
    }

    @Test
    void equalFillsAndSameNamedInputsMerge() {
        Node x1 = input("x", Shape.of(2));
        Node x2 = input("x", Shape.of(2));
        Graph g = Graph.of(add(mul(x1, scalar(2)), mul(x2, scalar(2))));
        Graph h = cse.run(g);
        Node sum = h.outputs().get(0);
        assertSame(sum.input(0), sum.input(1));
        assertEquals(4, h.size()); // x, 2, mul, add
    }
}
