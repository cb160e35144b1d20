package dev.kiln.nn;

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
 * The state (scale, finite steps in a row, steps skipped) belongs to the model and is shared by its training
 * programs. Mutable: the one place loss-scaling state lives.
 */
public final class LossScale {
    /** PyTorch's defaults: init_scale 2^16, growth_interval 2000. */
    public static final float DEFAULT_INITIAL = 65536f;
    public static final int DEFAULT_GROWTH_INTERVAL = 2000;

    private final int growthInterval;
    private float scale;
    private int goodSteps;
    private long skipped;

    private LossScale(float initial, int growthInterval) {
        if (!(initial > 0) || Float.isInfinite(initial)) throw new IllegalArgumentException("loss scale must be finite and > 0, got " + initial);
        if (growthInterval < 1) throw new IllegalArgumentException("loss scale growth interval must be >= 1 step, got " + growthInterval);
        this.scale = initial;
        this.growthInterval = growthInterval;
    }

    /** Starts at 2^16 and doubles after 2000 finite steps. */
    public static LossScale dynamic() { return new LossScale(DEFAULT_INITIAL, DEFAULT_GROWTH_INTERVAL); }

    /** Starts at {@code scale} (a power of two keeps scaling exact) and doubles after 2000 finite steps. */
    public static LossScale initial(float scale) { return new LossScale(scale, DEFAULT_GROWTH_INTERVAL); }

    /** This scale's start, doubling after {@code steps} finite steps in a row instead. */
    public LossScale growthInterval(int steps) { return new LossScale(scale, steps); }

    public float scale() { return scale; }
    /** Finite steps since the scale last changed. */
    public int goodSteps() { return goodSteps; }
    /** Steps skipped because a gradient was not finite, since this object was made. */
    public long skippedSteps() { return skipped; }
    public int growthIntervalSteps() { return growthInterval; }

    /** Puts saved state back (a resumed run). */
    public void restore(float scale, int goodSteps) {
        if (!(scale > 0) || Float.isInfinite(scale)) throw new IllegalArgumentException("loss scale must be finite and > 0, got " + scale);
        this.scale = scale;
        this.goodSteps = goodSteps;
    }

    /**
     * Records one step's outcome: finite gradients count towards growth (doubling at the interval); any
     * infinity or NaN halves the scale and restarts the count. Returns whether the optimizer should step.
     */
    public boolean update(boolean gradientsFinite) {
        if (!gradientsFinite) {
            // never below the smallest normal float: a scale that small means the loss itself is not finite
            scale = Math.max(scale * 0.5f, Float.MIN_NORMAL);
            goodSteps = 0;
            skipped++;
            return false;
        }
        if (++goodSteps >= growthInterval) {
            float grown = scale * 2f;
            if (Float.isFinite(grown)) scale = grown;
            goodSteps = 0;
        }
        return true;
    }

    @Override public String toString() { return "LossScale(" + scale + ", " + goodSteps + "/" + growthInterval + " good steps, " + skipped + " skipped)"; }
}
