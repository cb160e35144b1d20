package dev.kiln.compile;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class VerifierTest {
    private static Pass pass(String name, java.util.function.UnaryOperator<Graph> f) {
        return new Pass() {
            public String name() { return name; }
            public Graph run(Graph g) { return f.apply(g); }
        };
    }

    private static Graph compileWith(Graph g, Pass p) {
        return Compiler.optimize(g, Compiler.Options.defaults().withPasses(List.of(p)));
    }

    @Test
    void aPassThatChangesAnOutputShapeIsNamed() {
        Node x = input("x", Shape.of(2, 3));
        Graph g = Graph.of(relu(x));
        Pass shrink = pass("shrink", h -> Graph.of(sum(h.outputs().get(0), List.of(0), false)));
        var e = assertThrows(IllegalStateException.class, () -> compileWith(g, shrink));
        assertTrue(e.getMessage().contains("'shrink'") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3]"), e.getMessage());
    }

    @Test
    void aPassThatDropsAnOutputOrAnUpdateIsCaught() {
        Variable w = GraphFixtures.variable("w", Shape.of(3), new Random(1));
        Node x = input("x", Shape.of(3));
        Node step = sgdUpdate(param(w), x, param(w), scalar(0.1), new SgdUpdate(0, false, 0));
        Graph g = new Graph(List.of(x, exp(x)), List.of(step));
        assertThrows(IllegalStateException.class, () -> compileWith(g, pass("drop_output", h -> new Graph(List.of(x), h.effects()))));
        var e = assertThrows(IllegalStateException.class, () -> compileWith(g, pass("drop_update", h -> new Graph(h.outputs(), List.of()))));
        assertTrue(e.getMessage().contains("w"), e.getMessage());
    }

    @Test
    void aFusedStepThatReadsALaterValueIsCaught() {
        Node x = input("x", Shape.of(4));
        var bad = new dev.kiln.graph.Fused(List.of(new dev.kiln.graph.Fused.Step(new dev.kiln.graph.Unary(dev.kiln.graph.UnaryFn.NEG), List.of(1))), Shape.of(4));
        Graph g = Graph.of(Ops.node(bad, x));
        var e = assertThrows(IllegalStateException.class, () -> Verifier.verify("test", g));
        assertTrue(e.getMessage().contains("reads value 1"), e.getMessage());
    }

    @Test
    void theDefaultPipelineKeepsAWellFormedGraphWellFormed() {
        Node x = input("x", Shape.of(2, 3));
        Graph g = Graph.of(mul(relu(add(x, scalar(0))), full(Shape.of(2, 3), 1)));
        Graph h = Compiler.optimize(g, Compiler.Options.defaults());
        Verifier.verify("all", g, h);
        assertTrue(Compiler.verifying(), "tests run with assertions, so the compiler verifies between passes");
    }
}
