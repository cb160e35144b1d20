package dev.kiln.nn;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;

import java.util.List;

/**
 * A training step with dynamic loss scaling, fed and read exactly as the plain training program (same input
 * names, same outputs), made of the step's two halves: the gradient program (loss scaled by the input
 * "loss_scale", gradients divided by it before they are returned) and the optimizer's apply program. Between
 * them the host checks every gradient; only when all are finite do they go to the optimizer ({@link LossScale}).
 *
 * <p>The check reads each gradient back to the host once per step (on the CPU a copy; on a GPU a device-to-host
 * transfer, the price of GradScaler's semantics until the check moves into the graph). A skipped step still
 * counts in the model's iterations (the "step" input), unlike PyTorch, whose optimizer does not count it.
 */
final class LossScaledStep implements Executable {
    private final Executable gradients, apply;
    private final LossScale lossScale;
    private final int scaleSlot, lrSlot, stepSlot, applyLr, applyStep, firstGradient;
    private final int[] applyGrad;
    private final float[][] grads;
    private final float[] scale = new float[1];

    /** {@code gradients} outputs [loss, predictions..., gradient per weight]; {@code weights} gradients, in apply's "grad/i" order. */
    LossScaledStep(Executable gradients, Executable apply, LossScale lossScale, List<dev.kiln.graph.Variable> weights) {
        this.gradients = gradients;
        this.apply = apply;
        this.lossScale = lossScale;
        Program g = gradients.program(), a = apply.program();
        this.scaleSlot = g.inputSlot("loss_scale");
        this.lrSlot = g.inputSlot("lr");
        this.stepSlot = g.inputSlot("step");
        this.applyLr = a.inputSlot("lr");
        this.applyStep = a.inputSlot("step");
        this.firstGradient = g.outputs().size() - weights.size();
        this.applyGrad = new int[weights.size()];
        this.grads = new float[weights.size()][];
        for (int i = 0; i < grads.length; i++) {
            applyGrad[i] = a.inputSlot("grad/" + i);
            grads[i] = new float[weights.get(i).shape().size()];
        }
    }

    @Override public Program program() { return gradients.program(); }

    @Override public void setInput(int slot, float[] data) { setInput(slot, data, 0, data.length); }

    /** Gradient-program slots; the learning rate goes to the optimizer's half, the step counter to both. */
    @Override public void setInput(int slot, float[] src, int offset, int count) {
        if (slot == lrSlot) { apply.setInput(applyLr, src, offset, count); return; }
        if (slot == stepSlot) apply.setInput(applyStep, src, offset, count);
        gradients.setInput(slot, src, offset, count);
    }

    @Override public void run() {
        scale[0] = lossScale.scale();
        gradients.setInput(scaleSlot, scale);
        gradients.run();
        boolean finite = true;
        for (int i = 0; i < grads.length; i++) {
            gradients.readOutput(firstGradient + i, grads[i]);
            finite &= allFinite(grads[i]);
        }
        if (!lossScale.update(finite)) return;
        for (int i = 0; i < grads.length; i++) apply.setInput(applyGrad[i], grads[i]);
        apply.run();
    }

    private static boolean allFinite(float[] a) {
        // x - x is 0 for every finite x and NaN for ±inf and NaN; the sum is NaN iff one was not finite
        float s = 0;
        for (float v : a) s += v - v;
        return s == 0;
    }

    @Override public void readOutput(int slot, float[] dst, int offset) { gradients.readOutput(slot, dst, offset); }
    @Override public float outputScalar(int slot) { return gradients.outputScalar(slot); }
    @Override public void syncVariables() { gradients.syncVariables(); apply.syncVariables(); }
    @Override public long workspaceBytes() { return gradients.workspaceBytes() + apply.workspaceBytes(); }
}
