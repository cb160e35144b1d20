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

    @Test void gradientThenApplyMatchesTheTrainingStep() { compare(null, 0); }

    /**
     * With a loss scale, the split step scales as the one training step: the gradient program's outputs are unscaled, the
     * apply program skips a step whose gradients are not finite (an infinity in step 3's input) and keeps GradScaler's
     * scale sequence (1024, halved at the skip, doubled after 3 good steps).
     */
    @Test void aLossScaledSplitStepSkipsAndScalesAsTheTrainingStep() {
        Model split = compare(LossScale.initial(1024f).growthInterval(3), 3);
        assertEquals(1, split.lossScale().skippedSteps());
        assertEquals(1024f, split.lossScale().scale(), "1024, 512 at step 3, 1024 after steps 4-6, 2048 would need 9");
    }

    /** Runs 8 steps of the training program and of the split programs side by side; returns the split model. */
    private static Model compare(LossScale scale, int poisoned) {
        int batch = 16, steps = 8;
        float[] clean = data(batch, 11, 1), bad = clean.clone(), y = data(batch, 1, 2);
        bad[5] = Float.POSITIVE_INFINITY;
        float[] lr = {1e-2f}, step = new float[1];

        Model fused = m1();
        if (scale != null) fused.lossScale(scale);
        Executable train = fused.trainingProgram(batch);
        Model split = m1();
        if (scale != null) split.lossScale(scale.growthInterval(scale.growthIntervalSteps()));
        Executable grad = split.gradientProgram(batch);
        Executable apply = split.applyGradientsProgram();
        List<Variable> ws = split.gradientWeights();
        assertEquals(split.trainableWeights().size(), ws.size());
        for (int s = 1; s <= steps; s++) {
            step[0] = s;
            float[] x = s == poisoned ? bad : clean;
            float[] before = split.weights().get(0).value().clone();
            train.setInput(train.program().inputSlot("x"), x);
            train.setInput(train.program().inputSlot("y"), y);
            train.setInput(train.program().inputSlot("lr"), lr);
            train.setInput(train.program().inputSlot("step"), step);
            train.run();

            grad.setInput(grad.program().inputSlot("x"), x);
            grad.setInput(grad.program().inputSlot("y"), y);
            grad.setInput(grad.program().inputSlot("step"), step);
            grad.run();
            if (s != poisoned) assertEquals(train.outputScalar(0), grad.outputScalar(0), 1e-6, "loss at step " + s);
            for (int i = 0; i < ws.size(); i++) {
                float[] g = new float[ws.get(i).shape().size()];
                grad.readOutput(2 + i, g);
                apply.setInput(apply.program().inputSlot("grad/" + i), g);
            }
            apply.setInput(apply.program().inputSlot("lr"), lr);
            apply.setInput(apply.program().inputSlot("step"), step);
            apply.run();
            if (s == poisoned) assertArrayEquals(before, split.weights().get(0).value(), "the poisoned step " + s + " moved the weights");
            if (scale != null) assertEquals(fused.lossScale().scale(), split.lossScale().scale(), "scale after step " + s);
        }
        for (int i = 0; i < fused.weights().size(); i++) {
            float[] a = fused.weights().get(i).value(), b = split.weights().get(i).value();
            for (int j = 0; j < a.length; j++) assertEquals(a[j], b[j], 1e-5, fused.weights().get(i).name() + "[" + j + "]");
        }
        // and the weights moved
        assertNotEquals(m1().weights().get(0).value()[0], split.weights().get(0).value()[0]);
        return split;
    }

    @Test void theLossScaledGradientProgramOutputsUnscaledGradients() {
        int batch = 16;
        float[] x = data(batch, 11, 1), y = data(batch, 1, 2);
        float[][] grads = new float[2][];
        for (int k = 0; k < 2; k++) {
            Model m = m1();
            if (k == 1) m.lossScale(LossScale.initial(1024f));
            Executable g = m.gradientProgram(batch);
            g.setInput(g.program().inputSlot("x"), x);
            g.setInput(g.program().inputSlot("y"), y);
            g.setInput(g.program().inputSlot("step"), new float[] {1});
            g.run();
            grads[k] = new float[m.gradientWeights().get(0).shape().size()];
            g.readOutput(2, grads[k]);
        }
        assertArrayEquals(grads[0], grads[1], "f32 and a power-of-two scale: the unscaled gradients are the unscaled loss's, bit for bit");
    }
}
