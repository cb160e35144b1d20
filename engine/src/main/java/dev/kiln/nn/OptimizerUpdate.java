package dev.kiln.nn;

import dev.kiln.backend.Executable;

/**
 * The second half of a data-parallel rank's step: the optimizer's program ({@link Model#applyGradientsProgram}), its
 * "grad/i" inputs already holding the averaged gradients, fed the learning rate and step counter and run.
 */
public final class OptimizerUpdate {
    private final Executable apply;
    private final int lrIn, stepIn;
    private final float[] scalar = new float[1];

    public OptimizerUpdate(Executable apply) {
        this.apply = apply;
        this.lrIn = apply.program().inputSlot("lr");
        this.stepIn = apply.program().inputSlot("step");
    }

    /** Updates the weights at rate {@code lr}, step counter {@code t} (from 1). */
    public void run(float lr, long t) {
        scalar[0] = lr;
        apply.setInput(lrIn, scalar);
        scalar[0] = t;
        apply.setInput(stepIn, scalar);
        apply.run();
    }
}
