package dev.kiln.optim;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** RMSprop's first step by hand, its slots and its argument checks (the fixtures cover three steps vs PyTorch). */
class RMSpropTest {
    @Test
    void firstStepIsLrTimesGradientOverSqrtOfOneMinusRhoTimesItsSquare() {
        // s = (1-ρ) g² = 0.1·4 = 0.4; p = 1 - 0.01 · 2 / (sqrt(0.4) + 1e-8)
        Variable p = new Variable("p", Shape.of(1), new float[] {1}, true);
        RMSprop opt = RMSprop.lr(0.01).rho(0.9);
        Node g = Ops.input("g", Shape.of(1)), lr = Ops.input("lr", Shape.SCALAR);
        Interpreter in = new Interpreter();
        in.run(new Graph(List.of(), opt.updates(List.of(p), List.of(g), lr, lr)), Map.of(g, new double[] {2}, lr, new double[] {0.01}));
        assertEquals(1 - 0.01 * 2 / (Math.sqrt(0.4) + 1e-8), in.variable(p)[0], 1e-12);
        assertEquals(1, opt.slots().size());
        assertEquals(0.4, in.variable(opt.slots().getFirst())[0], 1e-12);
    }

    @Test
    void centeredMomentumKeepsThreeSlotsPerParameterNamedAfterIt() {
        RMSprop opt = RMSprop.lr(0.01).centered().momentum(0.9);
        Variable p = new Variable("dense/kernel", Shape.of(2, 3), new float[6], true);
        opt.updates(List.of(p), List.of(Ops.input("g", Shape.of(2, 3))), Ops.input("lr", Shape.SCALAR), Ops.input("step", Shape.SCALAR));
        List<String> names = opt.slots().stream().map(Variable::name).sorted().toList();
        assertEquals(List.of("dense/kernel/rmsprop_grad_avg", "dense/kernel/rmsprop_momentum", "dense/kernel/rmsprop_square_avg"), names);
    }

    @Test
    void defaultsAreTorchs() {
        RMSprop o = RMSprop.lr(1e-3);
        assertEquals(0.99, o.rho());
        assertEquals(1e-8, o.epsilon());
        assertEquals(0, o.momentum());
        assertFalse(o.isCentered());
        assertEquals(1e-3, o.learningRate());
    }

    @Test
    void badHyperParametersNameTheParameter() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RMSprop.lr(0)).getMessage().contains("learning rate"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RMSprop.lr(1e-3).rho(1)).getMessage().contains("rho"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RMSprop.lr(1e-3).momentum(-0.1)).getMessage().contains("momentum"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RMSprop.lr(1e-3).epsilon(-1)).getMessage().contains("epsilon"));
    }
}
