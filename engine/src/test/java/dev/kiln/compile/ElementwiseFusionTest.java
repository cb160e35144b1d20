package dev.kiln.compile;

import dev.kiln.graph.Fused;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Unary;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class ElementwiseFusionTest {
    private final Pass fuse = new ElementwiseFusion();

    private Graph run(Graph g) {
        Graph h = fuse.run(g);
        Verifier.verify(fuse.name(), g, h);
        GraphFixtures.assertSameValues(g, h, GraphFixtures.randomFeeds(g, 11), 1e-15);
        return h;
    }

    private static List<Node> fused(Graph g) {
        return g.schedule().stream().filter(n -> n.op() instanceof Fused).toList();
    }

    @Test
    void reluOfAddOfMulBecomesOneLoopOfThreeSteps() {
        Random r = new Random(5);
        Node x = input("x", Shape.of(4, 8));
        Node w = param(GraphFixtures.variable("w", Shape.of(4, 8), r));
        Node b = param(GraphFixtures.variable("b", Shape.of(8), r)); // broadcast operand
        Graph g = Graph.of(relu(add(mul(x, w), b)));
        Graph h = run(g);
        Node out = h.outputs().get(0);
        Fused f = assertInstanceOf(Fused.class, out.op());
        assertEquals(3, f.steps().size());
        assertEquals(List.of(x, w, b), out.inputs());
        assertEquals(List.of(0, 1), f.steps().get(0).args());
        assertEquals(List.of(3, 2), f.steps().get(1).args());
        assertEquals(List.of(4), f.steps().get(2).args());
        assertEquals(3, GraphFixtures.instructions(g));
        assertEquals(1, GraphFixtures.instructions(h));
    }

    @Test
    void aBroadcastOperandIsReadByTheLoopUnexpanded() {
        Node x = input("x", Shape.of(6, 5)), v = input("v", Shape.of(1, 5));
        Node wide = broadcastTo(v, Shape.of(6, 5));
        // the broadcast also feeds a matmul: it stays for that reader, and the loop still reads v
        Graph g = new Graph(List.of(relu(mul(x, wide)), matmul(transpose(wide, List.of(1, 0)), x)), List.of());
        Graph h = run(g);
        Node loop = h.outputs().get(0);
        assertInstanceOf(Fused.class, loop.op());
        assertEquals(List.of(x, v), loop.inputs());
        Graph alone = run(Graph.of(relu(mul(x, wide))));
        assertEquals(1, GraphFixtures.instructions(alone), "no expanded copy is computed");
    }

    @Test
    void aValueReadOutsideTheChainIsNotFusedIntoItsMiddle() {
        Node x = input("x", Shape.of(3, 3));
        Node t = exp(neg(x));          // read by the chain and by the matmul
        Node y = sigmoid(tanh(t));
        Graph g = new Graph(List.of(y, matmul(t, x)), List.of());
        Graph h = run(g);
        Node fy = h.outputs().get(0);
        Fused fyOp = assertInstanceOf(Fused.class, fy.op());
        assertEquals(2, fyOp.steps().size(), "tanh, sigmoid");
        Node ft = fy.input(0);
        assertSame(ft, h.outputs().get(1).input(0), "t stays materialised: the matmul and the loop read it");
        assertEquals(2, assertInstanceOf(Fused.class, ft.op()).steps().size(), "neg, exp");
    }

    @Test
    void aGraphOutputStaysMaterialised() {
        Node x = input("x", Shape.of(5));
        Node a = abs(x);
        Node b = relu(neg(a));
        Graph h = run(new Graph(List.of(b, a), List.of()));
        assertInstanceOf(Unary.class, h.outputs().get(1).op(), "the output abs is its own (single-op) group");
        Node fb = h.outputs().get(0);
        assertEquals(2, assertInstanceOf(Fused.class, fb.op()).steps().size());
        assertSame(h.outputs().get(1), fb.input(0));
    }

    @Test
    void aValueReadTwiceInsideTheGroupIsOneStep() {
        Node x = input("x", Shape.of(6));
        Node t = tanh(x);
        Graph h = run(Graph.of(add(mul(t, t), t)));
        Fused f = assertInstanceOf(Fused.class, h.outputs().get(0).op());
        assertEquals(3, f.steps().size());
        assertEquals(List.of(1, 1), f.steps().get(1).args());
    }

    @Test
    void smallerElementwiseValuesAreOperandsNotSteps() {
        Node x = input("x", Shape.of(4, 3));
        Node row = input("row", Shape.of(3));
        Node scaled = exp(row);            // [3]: computed once, then broadcast into the loop
        Graph h = run(Graph.of(relu(mul(x, scaled))));
        Node out = h.outputs().get(0);
        assertEquals(2, assertInstanceOf(Fused.class, out.op()).steps().size());
        assertSame(scaled, out.input(1));
    }

    @Test
    void singleOpsAndNonElementwiseGraphsAreLeftAlone() {
        Node x = input("x", Shape.of(3, 3));
        Graph g = Graph.of(relu(matmul(x, x)));
        assertSame(g, fuse.run(g));
    }
}
