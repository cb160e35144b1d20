package dev.kiln.cpu;

import dev.kiln.backend.Executable;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.optim.Adam;
import dev.kiln.nn.*;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The training step split into gradient and apply programs (data-parallel training) trains as the fused step does. */
class GradientProgramTest {
    private static Model m1() {
        Model m = Sequential.of(Input.shape(11), Dense.of(32).relu(), Dense.of(32).relu(), Dense.of(1)).seed(7);
        m.compile(Adam.lr(1e-2), Loss.mae());
        return m;
    }

    private static float[] data(int n, int per, long seed) {
        float[] x = new float[n * per];
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @Test void gradientThenApplyMatchesTheTrainingStep() {
        int batch = 16, steps = 8;
        float[] x = data(batch, 11, 1), y = data(batch, 1, 2);
        float[] lr = {1e-2f}, step = new float[1];

        Model fused = m1();
        Executable train = fused.trainingProgram(batch);
        Model split = m1();
        Executable grad = split.gradientProgram(batch);
        Executable apply = split.applyGradientsProgram();
        List<Variable> ws = split.gradientWeights();
        assertEquals(split.trainableWeights().size(), ws.size());
        for (int s = 1; s <= steps; s++) {
            step[0] = s;
            train.setInput(train.program().inputSlot("x"), x);
            train.setInput(train.program().inputSlot("y"), y);
            train.setInput(train.program().inputSlot("lr"), lr);
            train.setInput(train.program().inputSlot("step"), step);
            train.run();

            grad.setInput(grad.program().inputSlot("x"), x);
            grad.setInput(grad.program().inputSlot("y"), y);
            grad.setInput(grad.program().inputSlot("step"), step);
            grad.run();
            assertEquals(train.outputScalar(0), grad.outputScalar(0), 1e-6, "loss at step " + s);
            for (int i = 0; i < ws.size(); i++) {
                float[] g = new float[ws.get(i).shape().size()];
                grad.readOutput(2 + i, g);
                apply.setInput(apply.program().inputSlot("grad/" + i), g);
            }
            apply.setInput(apply.program().inputSlot("lr"), lr);
            apply.setInput(apply.program().inputSlot("step"), step);
            apply.run();
        }
        for (int i = 0; i < fused.weights().size(); i++) {
            float[] a = fused.weights().get(i).value(), b = split.weights().get(i).value();
            for (int j = 0; j < a.length; j++) assertEquals(a[j], b[j], 1e-5, fused.weights().get(i).name() + "[" + j + "]");
        }
        // and the weights moved
        assertNotEquals(m1().weights().get(0).value()[0], split.weights().get(0).value()[0]);
    }

    @Test void aLossScaledModelIsRefusedNotTrainedUnscaled() {
        Model m = m1();
        m.lossScale(LossScale.initial(1024f));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.gradientProgram(16));
        assertTrue(e.getMessage().contains("scales its loss") && e.getMessage().contains("compile it in F32"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        m.lossScale(null);
        assertNotNull(m.gradientProgram(16), "without the scale it compiles");
    }
}
