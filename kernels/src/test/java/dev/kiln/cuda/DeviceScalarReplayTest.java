package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.graph.Variable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The learning rate and Adam's step counter are device scalars (program inputs the step's kernels
 * read on the device), so a training step captured once as a CUDA graph is replayed every step while
 * a schedule changes the rate: each step writes 4 bytes into each scalar and launches the graph.
 * N replayed steps with a decaying rate give the bits of N eager steps, with one capture in all.
 */
class DeviceScalarReplayTest extends OnEmulatedDevice {
    private static final int BATCH = 8, FEATURES = 5, STEPS = 5;
    private static Program program() { return trainingStep(denseModel(FEATURES, 4, 6, 1), BATCH); }

    /** Runs STEPS steps (rate lr(step), t = step) and returns each step's loss; the last step's driver calls go to {@code lastCalls}. */
    private float[] train(Executable e, Program p, boolean decay, List<String> lastCalls) {
        float[] losses = new float[STEPS];
        for (int step = 1; step <= STEPS; step++) {
            Random r = new Random(step);
            float[] x = new float[BATCH * FEATURES], y = new float[BATCH];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (int i = 0; i < y.length; i++) y[i] = (float) r.nextGaussian();
            e.setInput(p.inputSlot("x"), x);
            e.setInput(p.inputSlot("y"), y);
            e.setInput(p.inputSlot("lr"), new float[] {decay ? (float) (0.05 * Math.pow(0.5, step - 1)) : 0.05f});
            e.setInput(p.inputSlot("step"), new float[] {step});
            if (step == STEPS) cuda.driver.logCalls(lastCalls);
            e.run();
            cuda.driver.logCalls(null);
            losses[step - 1] = e.outputScalar(0);
        }
        return losses;
    }

    private static List<float[]> weights(Executable e) {
        e.syncVariables();
        List<float[]> l = new ArrayList<>();
        for (Variable v : e.program().variables()) l.add(v.value().clone());
        return l;
    }

    @Test
    void replayedStepsFollowAChangingLearningRateWithOneCapture() {
        Program p = program();
        // one backend each over the one device: each keeps its own device copy of the variables (uploaded at compile)
        Executable eager = new CudaBackend(cuda.device).graphs(false).compile(p);
        Executable graphed = new CudaBackend(cuda.device).graphs(true).compile(p);
        Executable constant = new CudaBackend(cuda.device).graphs(true).compile(p);

        assertEquals(0, CudaBackend.captures(graphed), "nothing is captured before the first run");

        List<String> eagerCalls = new ArrayList<>(), replayCalls = new ArrayList<>();
        float[] eagerLoss = train(eager, p, true, eagerCalls);
        float[] graphLoss = train(graphed, p, true, replayCalls);
        float[] constantLoss = train(constant, p, false, null);

        assertEquals(0, CudaBackend.captures(eager), "the eager executable never captures");
        assertEquals(1, CudaBackend.captures(graphed), "captured once, on the second step, and replayed for every later one");
        assertTrue(eagerCalls.contains("kiln_adam_update_f32") && eagerCalls.contains("sgemm"), eagerCalls.toString());
        assertEquals(eagerCalls, replayCalls, "the last replay runs the eager step's calls in order");
        assertArrayEquals(eagerLoss, graphLoss, "losses of replayed steps with a decaying rate, bit for bit");
        List<float[]> eagerWeights = weights(eager), graphWeights = weights(graphed);
        for (int v = 0; v < eagerWeights.size(); v++) {
            assertArrayEquals(eagerWeights.get(v), graphWeights.get(v), p.variables().get(v).name() + " after " + STEPS + " steps");
        }
        assertFalse(Arrays.equals(eagerLoss, constantLoss), "a replay reads the new rate each step: a constant rate trains differently");
        for (Executable e : List.of(eager, graphed, constant)) e.close();
        EmulatedDevice.CASES.incrementAndGet();
    }
}
