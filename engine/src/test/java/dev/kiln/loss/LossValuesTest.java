package dev.kiln.loss;

import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Losses on small batches against values worked out by hand, evaluated by the double-precision
 * reference interpreter (tolerance 1e-9: only libm rounding separates the two).
 */
class LossValuesTest {
    private static final double TOL = 1e-9;

    private static double loss(Loss l, Shape predShape, double[] p, Shape targetShape, double[] t) {
        Node pred = Ops.input("p", predShape), target = Ops.input("t", targetShape);
        return new Interpreter().evaluate(l.compute(pred, target), Map.of(pred, p, target, t))[0];
    }

    private static double loss(Loss l, double[] p, double[] t) {
        return loss(l, Shape.of(p.length, 1), p, Shape.of(t.length, 1), t);
    }

    @Test
    void maeAndMse() {
        double[] p = {1, 2, 3, 4}, t = {1.5, 2, 1, 5};
        assertEquals((0.5 + 0 + 2 + 1) / 4, loss(Loss.mae(), p, t), TOL);
        assertEquals((0.25 + 0 + 4 + 1) / 4, loss(Loss.mse(), p, t), TOL);
    }

    @Test
    void huberIsQuadraticInsideDeltaAndLinearOutside() {
        // delta 1: |e| 0.5 -> 0.125; |e| 1 -> 0.5 (both branches agree); |e| 2 -> 0.5 + 1 = 1.5; |e| 3 -> 0.5 + 2 = 2.5
        double[] p = {0.5, 1, -2, 0}, t = {0, 0, 0, 3};
        assertEquals((0.125 + 0.5 + 1.5 + 2.5) / 4, loss(Loss.huber(), p, t), TOL);
        // delta 2: |e| 1 -> 0.5 (quadratic); |e| 3 -> 0.5·4 + 2·1 = 4 (linear)
        assertEquals((0.5 + 4) / 2, loss(Loss.huber(2), new double[] {1, 3}, new double[] {0, 0}), TOL);
        assertEquals("huber", Loss.huber().name());
    }

    @Test
    void binaryCrossentropyFromProbabilitiesClipsAtZeroAndOne() {
        // p clipped to [1e-7, 1 - 1e-7] as Keras: -ln(1e-7) for a certain wrong answer, -ln(1 - 1e-7) for a certain right one
        double eps = 1e-7;
        double[] p = {0, 1, 0.25, 0, 1}, t = {1, 1, 0, 0, 0};
        double expected = (-Math.log(eps) - Math.log(1 - eps) - Math.log(0.75) - Math.log(1 - eps) - Math.log(eps)) / 5;
        assertEquals(expected, loss(Loss.binaryCrossentropy(), p, t), TOL);
        assertEquals(16.11809565095832, -Math.log(eps), 1e-12);
    }

    @Test
    void binaryCrossentropyFromLogitsAndThroughASigmoid() {
        // z = 0, t = 1: ln 2; z = 2, t = 0: ln(1 + e²)
        double expected = (Math.log(2) + Math.log(1 + Math.exp(2))) / 2;
        assertEquals(expected, loss(Loss.binaryCrossentropyFromLogits(), new double[] {0, 2}, new double[] {1, 0}), TOL);
        // a sigmoid output is computed from its logits: exact even where the probability rounds to 1
        Node z = Ops.input("z", Shape.of(1, 1)), t = Ops.input("t", Shape.of(1, 1));
        double far = new Interpreter().evaluate(Loss.binaryCrossentropy().compute(Ops.sigmoid(z), t), Map.of(z, new double[] {40}, t, new double[] {0}))[0];
        assertEquals(40 + Math.log1p(Math.exp(-40)), far, TOL);
    }

    @Test
    void categoricalCrossentropyFromProbabilitiesNotFromASoftmax() {
        double[] p = {0.2, 0.3, 0.5, 0.1, 0.6, 0.3}, t = {0, 0, 1, 0, 1, 0};
        assertEquals((-Math.log(0.5) - Math.log(0.6)) / 2, loss(Loss.categoricalCrossentropy(), Shape.of(2, 3), p, Shape.of(2, 3), t), TOL);
        // a zero probability on the true class is clipped to 1e-7
        assertEquals(-Math.log(1e-7), loss(Loss.categoricalCrossentropy(), Shape.of(1, 2), new double[] {1, 0}, Shape.of(1, 2), new double[] {0, 1}), TOL);
    }

    @Test
    void sparseCategoricalCrossentropyFromProbabilitiesAndFromLogits() {
        double[] p = {0.2, 0.3, 0.5, 0.1, 0.6, 0.3};
        assertEquals((-Math.log(0.5) - Math.log(0.6)) / 2, loss(Loss.sparseCategoricalCrossentropy(), Shape.of(2, 3), p, Shape.of(2), new double[] {2, 1}), TOL);
        // logits (1, 2, 3), label 0: ln(e + e² + e³) - 1
        double expected = Math.log(Math.E + Math.exp(2) + Math.exp(3)) - 1;
        assertEquals(expected, loss(Loss.sparseCategoricalCrossentropyFromLogits(), Shape.of(1, 3), new double[] {1, 2, 3}, Shape.of(1), new double[] {0}), TOL);
        assertEquals(Shape.of(2), Loss.sparseCategoricalCrossentropy().targetShape(Shape.of(2, 3)));
    }

    @Test
    void targetsAreValidatedWithRowAndValue() {
        Shape out3 = Shape.of(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Loss.sparseCategoricalCrossentropy().validateTargets(new float[] {0, 2, 3}, 3, out3));
        assertTrue(e.getMessage().contains("row 2") && e.getMessage().contains("3.0") && e.getMessage().contains("[0, 3)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Loss.sparseCategoricalCrossentropy().validateTargets(new float[] {0, 1.5f}, 2, out3));
        assertTrue(e.getMessage().contains("row 1") && e.getMessage().contains("1.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Loss.binaryCrossentropy().validateTargets(new float[] {0, 1, -0.5f}, 3, Shape.of(1)));
        assertTrue(e.getMessage().contains("row 2") && e.getMessage().contains("-0.5") && e.getMessage().contains("[0, 1]"), e.getMessage());
    }
}
