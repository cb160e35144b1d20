package dev.kiln.compile;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class DuplicateEffectRemovalTest {
    private final Pass dedupe = new DuplicateEffectRemoval();

    @Test
    void repeatedUpdateIsListedOnceAndOutputsKeepTheirPositions() {
        Variable w = GraphFixtures.variable("w", Shape.of(3), new Random(1));
        Node x = input("x", Shape.of(3));
        Node loss = sumAll(mul(param(w), x));
        Node step = sgdUpdate(param(w), x, param(w), scalar(0.1), new SgdUpdate(0, false, 0));
        Graph g = new Graph(List.of(loss, loss), List.of(step, step));
        Graph h = dedupe.run(g);
        Verifier.verify(dedupe.name(), g, h);
        assertEquals(List.of(step), h.effects());
        assertEquals(List.of(loss, loss), h.outputs(), "outputs are positional; duplicates stay");
    }

    @Test
    void valuesNoOutputReadsNeverReachTheSchedule() {
        Node x = input("x", Shape.of(3));
        Node unused = exp(x);
        Node y = relu(x);
        Graph g = Graph.of(y);
        assertFalse(dedupe.run(g).schedule().contains(unused));
        assertSame(g, dedupe.run(g), "nothing to remove: the pass returns its argument");
    }
}
