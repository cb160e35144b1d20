package dev.kiln.cuda.emu;

import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Prints, once the test plan has run, how many kernel cases ran on the test device (the emulated
 * one without a GPU) and the model training steps lowered to the CUDA backend (one line each).
 */
public final class EmulatorSummary implements TestExecutionListener {
    /** One line per model step test: "M1 (batch 256): 3 steps, ... s per step, loss within ...". */
    public static final Queue<String> MODEL_STEPS = new ConcurrentLinkedQueue<>();

    @Override public void testPlanExecutionFinished(TestPlan plan) {
        long cases = EmulatedDevice.CASES.get();
        if (cases == 0 && Nvcc.find().isEmpty()) {
            System.out.println("[kiln-cuda] emulated device: 0 kernel cases, 0 model steps (" + Nvcc.ABSENT + ")");
        } else if (cases > 0 || !MODEL_STEPS.isEmpty()) {
            System.out.println("[kiln-cuda] " + TestDevice.used + ": " + cases + " kernel cases checked against CPU references in "
                    + EmulatedDevice.LAUNCHES.get() + " PTX launches; training steps of " + MODEL_STEPS.size() + " models lowered to the CUDA backend:");
            for (String s : MODEL_STEPS) System.out.println("[kiln-cuda]   " + s);
        }
    }
}
