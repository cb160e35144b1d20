package dev.kiln.cuda.emu;

import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

/** Prints, once the test plan has run, how many kernel cases ran on the test device (the emulated one without a GPU). */
public final class EmulatorSummary implements TestExecutionListener {
    @Override public void testPlanExecutionFinished(TestPlan plan) {
        long cases = EmulatedDevice.CASES.get();
        if (cases == 0 && Nvcc.find().isEmpty()) {
            System.out.println("[kiln-cuda] emulated device: 0 kernel cases (" + Nvcc.ABSENT + ")");
        } else if (cases > 0) {
            System.out.println("[kiln-cuda] " + TestDevice.used + ": " + cases + " kernel cases checked against CPU references in "
                    + EmulatedDevice.LAUNCHES.get() + " PTX launches");
        }
    }
}
