package dev.kiln.compile;

import dev.kiln.graph.Constant;
import dev.kiln.graph.Full;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class ConstantFoldingTest {
    private final Pass fold = new ConstantFolding();

    @Test
    void fullPlusFullBecomesOneFill() {
        Graph g = Graph.of(add(full(Shape.of(2, 3), 2), full(Shape.of(2, 3), 3)));
        Graph h = fold.run(g);
        Verifier.verify(fold.name(), g, h);
        assertEquals(1, h.size());
        Full f = assertInstanceOf(Full.class, h.outputs().get(0).op());
        assertEquals(5.0, f.value(), 0.0);
        assertEquals(Shape.of(2, 3), f.shape());
    }

    @Test
    void nonUniformResultBecomesConstantWithTheComputedValues() {
        Node c = constant(Shape.of(3), new float[] {1, 4, 9});
        Graph g = Graph.of(mul(sqrt(c), scalar(2)));
        Graph h = fold.run(g);
        Constant k = assertInstanceOf(Constant.class, h.outputs().get(0).op());
        assertArrayEquals(new float[] {2, 4, 6}, k.data(), 0f);
    }

    @Test
    void onlyTheConstantPartOfAnInputDependentExpressionFolds() {
        Node x = input("x", Shape.of(4));
        Node scale = div(scalar(1), add(scalar(1), scalar(3))); // 0.25
        Graph g = Graph.of(mul(x, scale));
        Graph h = fold.run(g);
        Node m = h.outputs().get(0);
        assertSame(x, m.input(0));
        assertEquals(0.25, assertInstanceOf(Full.class, m.input(1).op()).value(), 0.0);
        assertEquals(3, h.size()); // x, 0.25, mul
        GraphFixtures.assertSameValues(g, h, GraphFixtures.randomFeeds(g, 1), 1e-15);
    }

    @Test
    void variablesAreNeverFolded() {
        Node p = param(GraphFixtures.variable("w", Shape.of(2), new java.util.Random(1)));
        Graph g = new Graph(List.of(add(p, scalar(1))), List.of());
        assertSame(g, fold.run(g));
    }
}
