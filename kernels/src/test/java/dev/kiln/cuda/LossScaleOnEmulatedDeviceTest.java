package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Precision;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.nn.LossScale;
import dev.kiln.nn.Model;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dynamic loss scaling on the device, inside the one training program: the step is captured once as a CUDA graph and
 * replayed through a poisoned step (an infinity in the input, step 3), and no step copies anything back to the host
 * (the finite flag, the skip and the scale's update never leave the device). Checked against an eager executable (same
 * bits), against its own first, eager run (a replay issues the same calls), and against the unscaled step (f32 with power-of-two scales scales exactly: same bits on every
 * finite step), with the poisoned step leaving weights and Adam state alone and GradScaler's scale sequence. The same in
 * FP16, where every GEMM runs on 16-bit operands through the reference gemmEx (its reads of device memory are the
 * library's, not copies to the host); there the scaled step rounds other operands than the unscaled one, so that
 * comparison is f32's alone.
 */
class LossScaleOnEmulatedDeviceTest extends OnEmulatedDevice {
    private static final int BATCH = 8, FEATURES = 5, STEPS = 6, POISONED = 3;
    private static final float[] SCALES = {1024, 1024, 512, 512, 512, 1024};

    private Model model(Precision precision, boolean scaled, boolean graphs) {
        Model m = denseModel(FEATURES, 4, 6, 1);
        m.compile(Adam.lr(1e-2), Loss.mse(), precision);   // f32: exact products, so scaling by 2^k is exact
        if (scaled) m.lossScale(LossScale.initial(1024f).growthInterval(3));
        return m.backend(new CudaBackend(cuda.device).graphs(graphs));
    }

    /** Weights, then Adam's slots by name, as the device holds them (synced after the step, outside it). */
    private static List<float[]> state(Model m, Executable e) {
        e.syncVariables();
        List<Variable> vs = new ArrayList<>(m.weights());
        List<Variable> slots = new ArrayList<>(m.optimizerState());
        slots.sort(Comparator.comparing(Variable::name));
        vs.addAll(slots);
        List<float[]> values = new ArrayList<>();
        for (Variable v : vs) values.add(v.value().clone());
        return values;
    }

    /** Feeds step {@code t} (its own batch; the poisoned one has an infinity) and runs it; returns the device-to-host copies the run made. */
    private long step(Executable e, int t, boolean poison, List<String> calls) {
        Random r = new Random(t);
        float[] x = new float[BATCH * FEATURES], y = new float[BATCH];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < y.length; i++) y[i] = (float) r.nextGaussian();
        if (poison) x[7] = Float.POSITIVE_INFINITY;
        e.setInput(e.program().inputSlot("x"), x);
        e.setInput(e.program().inputSlot("y"), y);
        e.setInput(e.program().inputSlot("lr"), new float[] {0.01f});
        e.setInput(e.program().inputSlot("step"), new float[] {t});
        long before = cuda.driver.deviceToHostCopies();
        cuda.driver.logCalls(calls);
        e.run();
        cuda.driver.logCalls(null);
        return cuda.driver.deviceToHostCopies() - before;
    }

    private static void assertSame(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what);
        for (int i = 0; i < expected.size(); i++) assertArrayEquals(expected.get(i), actual.get(i), what + ", array " + i);
    }

    @Test
    void aCapturedStepSkipsAPoisonedStepOnTheDeviceWithNoHostRead() { capturedStepSkipsPoisonedStep(Precision.F32); }

    @Test
    void inFp16OnGemmExTooTheStepSkipsAPoisonedStepWithNoHostRead() { capturedStepSkipsPoisonedStep(Precision.FP16); }

    private void capturedStepSkipsPoisonedStep(Precision precision) {
        Model graphed = model(precision, true, true), eager = model(precision, true, false), plain = model(precision, false, true);
        long halfCalls = cuda.gemm.halfCalls();
        Executable g = graphed.trainingProgram(BATCH), e = eager.trainingProgram(BATCH), p = plain.trainingProgram(BATCH);
        List<float[]> initial = state(graphed, g);
        List<String> firstCalls = new ArrayList<>();   // step 1 runs eagerly; step 2 captures; later steps replay
        for (int t = 1; t <= STEPS; t++) {
            boolean poison = t == POISONED;
            List<String> calls = t == 1 ? firstCalls : new ArrayList<>();
            List<float[]> before = state(graphed, g);
            assertEquals(0, step(g, t, poison, calls), "step " + t + " copied something to the host");
            assertEquals(0, step(e, t, poison, null), "eager step " + t + " copied something to the host");
            if (t > 1) assertEquals(firstCalls, calls, "step " + t + ": the replay runs the eager step's calls");
            assertTrue(calls.contains("kiln_adam_update_f32"), calls.toString());
            List<float[]> after = state(graphed, g);
            assertSame(state(eager, e), after, "step " + t + ", replayed vs eager");
            if (poison) assertSame(before, after, "the poisoned step " + t + " changed the weights or Adam state");
            else if (precision == Precision.F32) {
                step(p, t, false, null);
                assertSame(state(plain, p), after, "step " + t + ", scaled vs unscaled");
            }
            assertEquals(SCALES[t - 1], graphed.lossScale().scale(), "scale after step " + t);
        }
        assertEquals(1, CudaBackend.captures(g), "captured once and replayed through the skipped step");
        assertEquals(1, graphed.lossScale().skippedSteps());
        assertEquals(0, graphed.lossScale().goodSteps(), "doubled at step 6: the count restarted");
        assertTrue(initial.get(0)[0] != state(graphed, g).get(0)[0] || initial.get(1)[0] != state(graphed, g).get(1)[0], "the finite steps moved the weights");
        if (precision == Precision.FP16) assertTrue(cuda.gemm.halfCalls() > halfCalls, "FP16's GEMMs ran as gemmEx");
        for (Executable x : List.of(g, e, p)) x.close();
        EmulatedDevice.CASES.incrementAndGet();
    }
}
