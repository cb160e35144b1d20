package dev.kiln.optim;

import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class OptimizerSkeletonTest {
    private static List<String> slotNames(Optimizer o, Variable... params) {
        List<Node> grads = new ArrayList<>();
        for (Variable p : params) grads.add(Ops.param(p));
        o.updates(List.of(params), grads, Ops.input("lr", Shape.SCALAR), Ops.input("step", Shape.SCALAR));
        List<String> names = new ArrayList<>();
        for (Variable v : o.slots()) names.add(v.name());
        return names;
    }

    @Test
    void slotsAreNamedPerParameterInCreationOrder() {
        Variable a = Variable.zeros("d/kernel", Shape.of(2, 3)), b = Variable.zeros("d/bias", Shape.of(3));
        assertEquals(List.of("d/kernel/adam_m", "d/kernel/adam_v", "d/bias/adam_m", "d/bias/adam_v"), slotNames(Adam.lr(1e-3), a, b));
        assertEquals(List.of("d/kernel/sgd_velocity", "d/bias/sgd_velocity"), slotNames(Sgd.lr(0.1).momentum(0.9), a, b));
        assertEquals(List.of("d/kernel/rmsprop_square_avg", "d/kernel/rmsprop_grad_avg", "d/kernel/rmsprop_momentum"),
                slotNames(RMSprop.lr(1e-3).centered().momentum(0.9), a));
    }

    @Test
    void slotsAreMadeOncePerParameter() {
        Variable a = Variable.zeros("w", Shape.of(4));
        Adam adam = Adam.lr(1e-3);
        slotNames(adam, a);
        assertEquals(2, slotNames(adam, a).size());
    }

    @Test
    void clippingWithersKeepTheOptimizersTypeAndSettings() {
        Adam a = Adam.lr(0.01).betas(0.8, 0.9).clipNorm(1.0).clipValue(0.5);
        assertEquals(0.8, a.op().beta1());
        assertEquals(new GradientClipping(1.0, 0.5), a.clipping());
        assertEquals(0.01, a.learningRate());
        RMSprop r = RMSprop.lr(0.1).clipValue(2).rho(0.5);
        assertEquals(new GradientClipping(0, 2), r.clipping());
        assertEquals(0.5, r.rho());
    }

    @Test
    void everyOptimizerRejectsTheSameBadLearningRates() {
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Adam.lr(bad));
            assertTrue(e.getMessage().contains("learning rate"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Sgd.lr(bad));
            assertThrows(IllegalArgumentException.class, () -> RMSprop.lr(bad));
        }
    }
}
