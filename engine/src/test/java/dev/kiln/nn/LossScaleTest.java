package dev.kiln.nn;

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

/**
 * GradScaler's rules as the graph ops a training step runs (on the reference interpreter): halve and skip on a
 * non-finite step, double after the growth interval of finite ones; the finite flag over all gradients.
 */
class LossScaleTest {
    /** Runs {@code s}'s in-graph update one step at a time on the interpreter and puts its state back in the host variables. */
    private static final class Steps {
        private final LossScale s;
        private final Interpreter interpreter = new Interpreter();
        private final Node finite = Ops.input("finite", Shape.SCALAR);
        private final Graph graph;

        Steps(LossScale s) { this.s = s; this.graph = new Graph(List.of(), s.updates(finite)); }

        void step(boolean gradientsFinite) {
            interpreter.run(graph, Map.of(finite, new double[] {gradientsFinite ? 1 : 0}));
            for (Variable v : s.state()) v.assign(new float[] {(float) interpreter.variable(v)[0]});
        }
    }

    @Test
    void aNonFiniteStepIsSkippedHalvesTheScaleAndRestartsTheCount() {
        LossScale s = LossScale.initial(1024f).growthInterval(3);
        Steps run = new Steps(s);
        run.step(true);
        run.step(true);
        assertEquals(2, s.goodSteps());
        run.step(false);
        assertEquals(512f, s.scale());
        assertEquals(0, s.goodSteps());
        assertEquals(1, s.skippedSteps());
    }

    @Test
    void growthIntervalFiniteStepsInARowDoubleTheScale() {
        LossScale s = LossScale.initial(8f).growthInterval(4);
        Steps run = new Steps(s);
        for (int i = 0; i < 3; i++) run.step(true);
        assertEquals(8f, s.scale(), "not before the interval");
        run.step(true);
        assertEquals(16f, s.scale());
        assertEquals(0, s.goodSteps(), "the count restarts at a doubling");
        for (int i = 0; i < 4; i++) run.step(true);
        assertEquals(32f, s.scale());
        assertEquals(0, s.skippedSteps());
    }

    @Test
    void theDefaultsArePyTorchs() {
        LossScale s = LossScale.dynamic();
        assertEquals(65536f, s.scale());
        assertEquals(2000, s.growthIntervalSteps());
    }

    @Test
    void theScaleStaysFiniteAndPositive() {
        LossScale s = LossScale.initial(Float.MIN_NORMAL);
        new Steps(s).step(false);
        assertEquals(Float.MIN_NORMAL, s.scale());
        LossScale big = LossScale.initial(0x1p127f).growthInterval(1);
        new Steps(big).step(true);
        assertEquals(0x1p127f, big.scale(), "doubling past the float range is not taken");
        LossScale odd = LossScale.initial(0x1.8p126f).growthInterval(1);
        new Steps(odd).step(true);
        assertEquals(0x1.8p127f, odd.scale(), "below 2^127 the double is finite and taken");
        assertThrows(IllegalArgumentException.class, () -> LossScale.initial(0f));
        assertThrows(IllegalArgumentException.class, () -> LossScale.initial(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> LossScale.dynamic().growthInterval(0));
        assertThrows(IllegalArgumentException.class, () -> LossScale.dynamic().restore(Float.POSITIVE_INFINITY, 0));
    }

    @Test
    void restoreSetsTheStateTheNextStepContinuesFrom() {
        LossScale s = LossScale.initial(1024f).growthInterval(3);
        s.restore(64f, 2);
        new Steps(s).step(true);
        assertEquals(128f, s.scale(), "third finite step in a row, counting the restored two");
    }

    @Test
    void theFlagIsOneOnlyWhenEveryGradientElementIsFinite() {
        Node a = Ops.input("a", Shape.of(3)), b = Ops.input("b", Shape.of(2, 2));
        Node flag = LossScale.allFinite(List.of(a, b));
        double[] finite = {1, -Float.MAX_VALUE, 0}, big = {Float.MAX_VALUE, Float.MIN_VALUE, -0.0, 3};
        assertEquals(1.0, new Interpreter().evaluate(flag, Map.of(a, finite, b, big))[0], "large and tiny finite values");
        for (double bad : new double[] {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN}) {
            double[] withBad = big.clone();
            withBad[2] = bad;
            assertEquals(0.0, new Interpreter().evaluate(flag, Map.of(a, finite, b, withBad))[0], "one " + bad + " among finite values");
        }
    }
}
