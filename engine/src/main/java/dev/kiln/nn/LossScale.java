package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.List;

import static dev.kiln.graph.Ops.*;

/**
 * Dynamic loss scaling, PyTorch's GradScaler semantics: the loss is multiplied by {@link #scale()} before the
 * backward pass so that small gradients survive fp16's range, and the gradients are divided by it before the
 * optimizer sees them. A step whose gradients hold an infinity or NaN is skipped (no weight or optimizer-state
 * change) and the scale halves; after {@code growthInterval} finite steps in a row it doubles.
 *
 * <pre>{@code
 * model.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy(), Precision.FP16);  // scaled from 2^16
 * model.lossScale(LossScale.initial(1024f).growthInterval(500));                          // or chosen
 * }</pre>
 *
 * All of it happens inside the compiled training step, as torch's {@code _amp_foreach_non_finite_check_and_unscale_}
 * and {@code _amp_update_scale_} do: the state (scale, finite steps in a row, steps skipped) lives in three scalar
 * {@link Variable}s the step reads and updates with ordinary graph ops ({@link #scaleLoss}, {@link #unscale},
 * {@link #allFinite}, {@link #updates}), so a device never sends a gradient or a flag to the host and a captured
 * step replays as is. The getters read the host copy of that state: current on the CPU, on a device after
 * {@code Executable.syncVariables()} (the trainer syncs at the end of each epoch). The state belongs to the model
 * and is shared by its training programs.
 */
public final class LossScale {
    /** PyTorch's defaults: init_scale 2^16, growth_interval 2000. */
    public static final float DEFAULT_INITIAL = 65536f;
    public static final int DEFAULT_GROWTH_INTERVAL = 2000;
    /** Below 2^127 doubling stays finite: a scale that would reach infinity is kept instead. */
    private static final double LARGEST_DOUBLABLE = 0x1p127;

    private final int growthInterval;
    // float counters: exact to 2^24 steps, far past any growth interval; skipped steps past 2^24 would stop counting
    private final Variable scale, goodSteps, skipped;

    private LossScale(float initial, int growthInterval) {
        checkScale(initial);
        if (growthInterval < 1) throw new IllegalArgumentException("loss scale growth interval must be >= 1 step, got " + growthInterval);
        this.growthInterval = growthInterval;
        this.scale = new Variable("loss_scale/scale", Shape.SCALAR, new float[] {initial}, false);
        this.goodSteps = Variable.zeros("loss_scale/good_steps", Shape.SCALAR);
        this.skipped = Variable.zeros("loss_scale/skipped", Shape.SCALAR);
    }

    private static void checkScale(float s) {
        if (!(s > 0) || Float.isInfinite(s)) throw new IllegalArgumentException("loss scale must be finite and > 0, got " + s);
    }

    /** Starts at 2^16 and doubles after 2000 finite steps. */
    public static LossScale dynamic() { return new LossScale(DEFAULT_INITIAL, DEFAULT_GROWTH_INTERVAL); }

    /** Starts at {@code scale} (a power of two keeps scaling exact) and doubles after 2000 finite steps. */
    public static LossScale initial(float scale) { return new LossScale(scale, DEFAULT_GROWTH_INTERVAL); }

    /** This scale's start, doubling after {@code steps} finite steps in a row instead. */
    public LossScale growthInterval(int steps) { return new LossScale(scale(), steps); }

    public float scale() { return scale.value()[0]; }
    /** Finite steps since the scale last changed. */
    public int goodSteps() { return (int) goodSteps.value()[0]; }
    /** Steps skipped because a gradient was not finite, since this object was made. */
    public long skippedSteps() { return (long) skipped.value()[0]; }
    public int growthIntervalSteps() { return growthInterval; }

    /** Puts saved state back (a resumed run); a device backend uploads it before its next step. */
    public void restore(float scale, int goodSteps) {
        checkScale(scale);
        if (goodSteps < 0) throw new IllegalArgumentException("loss scale good steps must be >= 0, got " + goodSteps);
        this.scale.assign(new float[] {scale});
        this.goodSteps.assign(new float[] {goodSteps});
    }

    /** The state variables (scale, good steps, skipped steps): what a step's {@link #updates} write. */
    List<Variable> state() { return List.of(scale, goodSteps, skipped); }

    /** The loss whose gradients the step takes: loss × scale. */
    Node scaleLoss(Node loss) { return mul(loss, param(scale)); }

    /** The gradients of the scaled loss divided by the scale again: what the optimizer and {@link #allFinite} see. */
    List<Node> unscale(List<Node> scaledGradients) {
        Node s = param(scale);
        return scaledGradients.stream().map(g -> div(g, s)).toList();
    }

    /**
     * 1 when every element of every gradient is finite, else 0, as a scalar on the device: g - g is 0 for a finite g
     * and NaN for ±inf and NaN, so each sum is 0 or NaN whatever the order of the reduction, and so is their total.
     */
    static Node allFinite(List<Node> gradients) {
        Node total = scalar(0);
        for (Node g : gradients) total = add(total, sumAll(sub(g, g)));
        return equal(total, scalar(0));
    }

    /**
     * GradScaler's update as effects on the state, given the step's {@link #allFinite} flag: a finite step counts
     * towards growth (doubling at the interval, unless that would overflow, and restarting the count); a non-finite
     * one halves the scale (never below the smallest normal float: a scale that small means the loss itself is not
     * finite), restarts the count and counts as skipped. All reads happen before any effect writes.
     */
    List<Node> updates(Node finite) {
        Node s = param(scale), good = param(goodSteps), skips = param(skipped), zero = scalar(0), one = scalar(1);
        Node counted = add(good, one);
        Node grows = greaterEqual(counted, scalar(growthInterval));
        Node grown = where(less(s, scalar(LARGEST_DOUBLABLE)), mul(s, scalar(2)), s);
        Node halved = maximum(mul(s, scalar(0.5)), scalar(Float.MIN_NORMAL));
        return List.of(
                assign(s, where(finite, where(grows, grown, s), halved)),
                assign(good, where(finite, where(grows, zero, counted), zero)),
                assign(skips, add(skips, sub(one, finite))));
    }

    @Override public String toString() { return "LossScale(" + scale() + ", " + goodSteps() + "/" + growthInterval + " good steps, " + skippedSteps() + " skipped)"; }
}
