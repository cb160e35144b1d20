package dev.kiln.compile;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class CompilerTest {
    /** One SGD step of a two-layer MLP with MSE loss: forward, autodiff backward, updates. */
    private record Step(Graph graph, List<Variable> weights) {}

    private static Step mlpStep(long seed) {
        Random r = new Random(seed);
        Node x = input("x", Shape.of(8, 5));
        Node t = input("t", Shape.of(8, 1));
        Variable w1 = GraphFixtures.variable("w1", Shape.of(5, 16), r), b1 = GraphFixtures.variable("b1", Shape.of(16), r);
        Variable w2 = GraphFixtures.variable("w2", Shape.of(16, 1), r), b2 = GraphFixtures.variable("b2", Shape.of(1), r);
        List<Variable> vs = List.of(w1, b1, w2, b2);
        List<Node> params = new ArrayList<>();
        for (Variable v : vs) params.add(param(v));
        Node h = relu(add(matmul(x, params.get(0)), params.get(1)));
        Node y = add(matmul(h, params.get(2)), params.get(3));
        Node d = sub(y, t);
        Node loss = meanAll(mul(d, d));
        List<Node> grads = Autodiff.gradients(loss, params);
        List<Node> updates = new ArrayList<>();
        for (int i = 0; i < vs.size(); i++) {
            updates.add(sgdUpdate(params.get(i), grads.get(i), params.get(i), scalar(0.05), new SgdUpdate(0, false, 0)));
        }
        return new Step(new Graph(List.of(loss, y), updates), vs);
    }

    @Test
    void compiledTrainingStepComputesTheSameLossAndUpdatesWithFewerInstructions() {
        Step s = mlpStep(3);
        Graph g = s.graph();
        Graph h = Compiler.optimize(g, Compiler.Options.defaults());
        Map<Node, double[]> feeds = GraphFixtures.randomFeeds(g, 4);
        Interpreter before = new Interpreter(), after = new Interpreter();
        List<double[]> want = before.run(g, feeds), got = after.run(h, GraphFixtures.sameFeeds(feeds, h));
        for (int o = 0; o < want.size(); o++) assertArrayEquals(want.get(o), got.get(o), 1e-12, "output " + o);
        for (Variable v : s.weights()) assertArrayEquals(before.variable(v), after.variable(v), 1e-12, "updated " + v.name());
        // and the update moved the weights at all, so the comparison above is not of two no-ops
        assertNotEquals(s.weights().get(0).value()[0], (float) after.variable(s.weights().get(0))[0]);

        Program p = Compiler.compile(g);
        int unoptimized = GraphFixtures.instructions(g);
        assertTrue(p.instructions().size() < unoptimized, p.instructions().size() + " vs " + unoptimized);
        assertTrue(p.instructions().stream().anyMatch(i -> i.op() instanceof Fused), p.dump());
        assertEquals(4, p.instructions().stream().filter(i -> i.output() == null).count(), "one instruction per update");
        assertEquals(List.of("x", "t"), p.inputNames());
        assertEquals(2, p.outputs().size());
    }

    @Test
    void dumpListsEveryInstructionWithItsSlots() {
        Node x = input("x", Shape.of(2, 3));
        Program p = Compiler.compile(Graph.of(relu(add(mul(x, scalar(2)), scalar(1)))), Compiler.Options.defaults().withCheckNumerics(true));
        assertTrue(p.checkNumerics());
        assertEquals(1, p.instructions().size());
        String dump = p.dump();
        assertTrue(dump.contains("fused(mul,add,relu)"), dump);
        assertTrue(dump.contains("arena[0..6)[2, 3] = fused(mul,add,relu)(in0[2, 3], const0[], const1[])"), dump);
    }

    @Test
    void labelsSurviveRewrites() {
        Node x = input("x", Shape.of(4));
        Node y;
        try (var scope = dev.kiln.graph.Scope.enter("dense_1")) { y = relu(add(x, scalar(1))); }
        Program p = Compiler.compile(Graph.of(y));
        assertEquals("dense_1", p.instructions().get(0).node().label());
    }
}
