package dev.kiln.compile;

import dev.kiln.graph.Binary;
import dev.kiln.graph.Broadcast;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Reduce;
import dev.kiln.graph.View;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;
import dev.kiln.graph.Transpose;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class AlgebraicSimplificationTest {
    private final Pass simplify = new AlgebraicSimplification();

    private Graph run(Graph g) {
        Graph h = simplify.run(g);
        Verifier.verify(simplify.name(), g, h);
        GraphFixtures.assertSameValues(g, h, GraphFixtures.randomFeeds(g, 7), 0);
        return h;
    }

    @Test
    void timesOneIsRemoved() {
        Node x = input("x", Shape.of(2, 3));
        Graph h = run(Graph.of(relu(mul(x, full(Shape.of(2, 3), 1)))));
        Node relu = h.outputs().get(0);
        assertSame(x, relu.input(0));
        assertEquals(2, h.size());
    }

    @Test
    void identitiesOnBothSidesAndWithScalars() {
        Node x = input("x", Shape.of(2, 3));
        Graph h = run(new Graph(List.of(add(scalar(0), x), sub(x, scalar(0)), div(x, scalar(1)), mul(scalar(1), x), neg(neg(x))), List.of()));
        for (Node o : h.outputs()) assertSame(x, o);
    }

    @Test
    void sumAndMeanOfANegationNegateTheSmallResultInstead() {
        Node x = input("x", Shape.of(5, 7));
        Graph h = run(new Graph(List.of(sum(neg(x), List.of(0), false), mean(neg(x), List.of(1), true), max(neg(x), List.of(0), false)), List.of()));
        for (int i = 0; i < 2; i++) {
            Node o = h.outputs().get(i);
            assertEquals(UnaryFn.NEG, assertInstanceOf(Unary.class, o.op()).fn(), "output " + i);
            assertInstanceOf(Reduce.class, o.input(0).op());
            assertSame(x, o.input(0).input(0), "reduces x itself");
        }
        // max(-x) = -min(x), not -max(x): left alone
        assertInstanceOf(Unary.class, h.outputs().get(2).input(0).op());
    }

    @Test
    void aRewriteThatWouldShrinkTheShapeBroadcastsInstead() {
        Node x = input("x", Shape.of(3));
        Graph h = run(Graph.of(add(x, full(Shape.of(2, 3), 0))));
        Node out = h.outputs().get(0);
        assertEquals(Shape.of(2, 3), out.shape());
        assertInstanceOf(Broadcast.class, out.op());
        assertSame(x, out.input(0));
    }

    @Test
    void timesZeroFoldsOnlyForAZeroOfTheProductsShape() {
        Node x = input("x", Shape.of(2, 3));
        Node zeros = full(Shape.of(2, 3), 0);
        Graph h = run(new Graph(List.of(mul(x, zeros), mul(x, scalar(0))), List.of()));
        assertSame(zeros, h.outputs().get(0));
        assertInstanceOf(Binary.class, h.outputs().get(1).op(), "a scalar zero would lose the shape: kept");
    }

    @Test
    void reshapeChainsCollapseAndTransposesCompose() {
        Node x = input("x", Shape.of(2, 3, 4));
        Node rr = reshape(reshape(x, Shape.of(6, 4)), Shape.of(24));
        Node back = reshape(reshape(x, Shape.of(6, 4)), Shape.of(2, 3, 4));
        Node tt = transpose(transpose(x, List.of(1, 2, 0)), List.of(2, 0, 1)); // cancels
        Node t2 = transpose(transpose(x, List.of(1, 2, 0)), List.of(1, 0, 2));
        Graph h = run(new Graph(List.of(rr, back, tt, t2), List.of()));
        Node r = h.outputs().get(0);
        assertInstanceOf(View.class, r.op());
        assertSame(x, r.input(0));
        assertSame(x, h.outputs().get(1));
        assertSame(x, h.outputs().get(2));
        Node t = h.outputs().get(3);
        assertEquals(new Transpose(List.of(2, 1, 0)), t.op());
        assertSame(x, t.input(0));
    }

    @Test
    void nothingToSimplifyReturnsTheSameGraph() {
        Node x = input("x", Shape.of(2));
        Graph g = Graph.of(mul(x, scalar(2)));
        assertSame(g, simplify.run(g));
    }
}
