package dev.kiln.optim;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Placeholder;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Gradient clipping on hand-made gradients g = ([3, 4], [12]) (global norm 13) through plain SGD
 * with lr 1 and zero weights, so each weight after one step is minus its clipped gradient.
 * The interpreter clips in double and steps in float (SgdUpdate.step, the update's one meaning), so the weights
 * agree with the hand values within {@link #F32}, two float ulps of the largest, 12.
 */
class GradientClippingTest {
    private static final double F32 = 2 * Math.ulp(12f);

    private static List<double[]> stepOnce(Optimizer opt) {
        Variable a = new Variable("a", Shape.of(2), new float[2], true), b = new Variable("b", Shape.of(1), new float[1], true);
        Node ga = Ops.input("ga", Shape.of(2)), gb = Ops.input("gb", Shape.of(1)), lr = Ops.input("lr", Shape.SCALAR);
        Graph g = new Graph(List.of(), opt.updates(List.of(a, b), List.of(ga, gb), lr, Ops.input("step", Shape.SCALAR)));
        Interpreter in = new Interpreter();
        in.run(g, Map.of(ga, new double[] {3, 4}, gb, new double[] {12}, lr, new double[] {1}));
        return List.of(in.variable(a), in.variable(b));
    }

    private static void assertWeights(double[] a, double b, List<double[]> actual, double tol) {
        assertArrayEquals(a, actual.get(0), tol, "a");
        assertEquals(b, actual.get(1)[0], tol, "b");
    }

    @Test
    void clipNormScalesAllGradientsByTheGlobalNorm() {
        double scale = 6.5 / (13 + GradientClipping.NORM_EPSILON); // ≈ 0.5
        assertWeights(new double[] {-3 * scale, -4 * scale}, -12 * scale, stepOnce(Sgd.lr(1).clipNorm(6.5)), F32);
    }

    @Test
    void clipNormLeavesGradientsBelowTheLimitAlone() {
        assertWeights(new double[] {-3, -4}, -12, stepOnce(Sgd.lr(1).clipNorm(13.5)), F32);
    }

    @Test
    void clipValueClampsEachElement() {
        assertWeights(new double[] {-2, -2}, -2, stepOnce(Sgd.lr(1).clipValue(2)), F32);
        assertWeights(new double[] {-3, -3.5}, -3.5, stepOnce(Sgd.lr(1).clipValue(3.5)), F32);
    }

    @Test
    void clipValueIsAppliedBeforeClipNorm() {
        // clamped to (3, 3.5, 3.5): norm sqrt(33.5) ≈ 5.788 > 5
        double scale = 5 / (Math.sqrt(33.5) + GradientClipping.NORM_EPSILON);
        assertWeights(new double[] {-3 * scale, -3.5 * scale}, -3.5 * scale, stepOnce(Sgd.lr(1).clipValue(3.5).clipNorm(5)), F32);
    }

    @Test
    void everyOptimizerKeepsItsClippingThroughOtherWithers() {
        assertEquals(new GradientClipping(1, 0), Adam.lr(1e-3).clipNorm(1).betas(0.8, 0.99).adamW(0.01).clipping());
        assertEquals(new GradientClipping(0, 0.5), Sgd.lr(0.1).clipValue(0.5).momentum(0.9).nesterov().clipping());
        assertEquals(new GradientClipping(2, 0.5), RMSprop.lr(1e-3).clipNorm(2).centered().momentum(0.9).clipValue(0.5).clipping());
        assertEquals(GradientClipping.NONE, RMSprop.lr(1e-3).clipping());
    }

    @Test
    void nonPositiveOrNonFiniteLimitsAreRejected() {
        for (double bad : new double[] {0, -1, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Adam.lr(1e-3).clipNorm(bad));
            assertTrue(e.getMessage().contains("clipNorm") && e.getMessage().contains(String.valueOf(bad)), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Sgd.lr(1e-3).clipValue(bad));
        }
        assertThrows(IllegalArgumentException.class, () -> RMSprop.lr(1e-3).clipNorm(Double.POSITIVE_INFINITY));
    }

    @Test
    void modelTrainingStepMovesWeightsByAtMostTheClipNorm() {
        // Sgd lr 1: the step is minus the clipped gradient, whose global norm must be the limit 1e-3
        // (raw gradients of an untrained 4-8-1 MSE model on N(0,1) data with targets 10 are far larger)
        Model model = Sequential.of(dev.kiln.nn.Input.shape(4), Dense.of(8).relu(), Dense.of(1)).seed(5);
        model.compile(Sgd.lr(1).clipNorm(1e-3), Loss.mse());
        Model.Traced t = model.trainingGraph(6);
        List<double[]> before = new ArrayList<>();
        for (Variable v : model.trainableWeights()) before.add(toDouble(v.value()));
        Random r = new Random(7);
        Map<Node, double[]> feeds = new HashMap<>();
        for (Node in : t.inputs()) {
            double[] d = new double[in.shape().size()];
            String name = ((Placeholder) in.op()).inputName();
            for (int k = 0; k < d.length; k++) d[k] = switch (name) { case "y" -> 10; case "lr" -> 1; case "step" -> 1; default -> r.nextGaussian(); };
            feeds.put(in, d);
        }
        Interpreter interpreter = new Interpreter();
        interpreter.run(t.graph(), feeds);
        double squares = 0;
        for (int i = 0; i < before.size(); i++) {
            double[] after = interpreter.variable(model.trainableWeights().get(i));
            for (int k = 0; k < after.length; k++) squares += (after[k] - before.get(i)[k]) * (after[k] - before.get(i)[k]);
        }
        // the step is taken in float (SgdUpdate.step): each new weight (|w| < 2) is rounded to within 1.2e-7, so
        // the step's norm over these 49 weights is within sqrt(49)·1.2e-7 < 1e-6 of the limit 1e-3
        assertEquals(1e-3, Math.sqrt(squares), 1e-6);
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
