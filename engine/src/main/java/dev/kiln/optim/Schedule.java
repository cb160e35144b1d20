package dev.kiln.optim;

/**
 * A learning rate per optimizer step, fed to the compiled program each step (no recompiling).
 *
 * <pre>{@code Schedule.cosine(10_000, 1e-5).withWarmup(500) }</pre>
 */
@FunctionalInterface
public interface Schedule {
    /** The learning rate at {@code step} (0-based) for base rate {@code base}. */
    double at(long step, double base);

    static Schedule constant() { return (step, base) -> base; }

    /** base · factor^(step / every). */
    static Schedule stepDecay(long every, double factor) {
        if (every < 1 || !(factor > 0)) throw new IllegalArgumentException("step decay needs every >= 1 and factor > 0");
        return (step, base) -> base * Math.pow(factor, step / every);
    }

    /** Cosine decay from base to {@code min} over {@code total} steps, then min. */
    static Schedule cosine(long total, double min) {
        if (total < 1) throw new IllegalArgumentException("cosine decay needs total steps >= 1");
        return (step, base) -> step >= total ? min : min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * step / total));
    }

    /** Linear warm-up from base/warmup to base over {@code warmup} steps, then this schedule (shifted). */
    default Schedule withWarmup(long warmup) {
        Schedule after = this;
        return (step, base) -> step < warmup ? base * (step + 1) / warmup : after.at(step - warmup, base);
    }
}
