package dev.kiln.optim;

import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every optimizer shares: the learning rate (checked once here), gradient clipping and its withers,
 * the slot table (state variables per parameter, made on first use) and the loop over parameters.
 * A subclass writes only {@link #update}: one parameter's step, as effects. {@code O} is the
 * subclass itself, so that {@code Adam.lr(1e-3).clipNorm(1).betas(0.9, 0.99)} stays an {@code Adam}.
 */
public abstract sealed class AbstractOptimizer<O extends AbstractOptimizer<O>> implements Optimizer permits Adam, Sgd, RMSprop {
    private final double lr;
    private final GradientClipping clipping;
    /** Per parameter (by identity: two models' "dense/kernel" are different weights), its slots by suffix. */
    private final Map<Variable, Map<String, Variable>> slots = new IdentityHashMap<>();
    private final List<Variable> created = new ArrayList<>();

    AbstractOptimizer(double lr, GradientClipping clipping) {
        if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be a finite number > 0, got " + lr);
        this.lr = lr;
        this.clipping = clipping;
    }

    /** A copy of this optimizer with other clipping (and fresh slots). */
    abstract O withClipping(GradientClipping c);

    /** Appends one parameter's update effects, reading state through {@link #slot}; each runs only where {@code apply} (null: always) is not 0. */
    abstract void update(Variable param, Node grad, Node lr, Node step, Node apply, List<Node> effects);

    /** target := value, or where {@code apply} (not null) is 0 target := target: a composed update made conditional. */
    static Node assignIf(Node apply, Node target, Node value) { return Ops.assign(target, apply == null ? value : Ops.where(apply, value, target)); }

    /** Scales all gradients together so their global L2 norm is at most {@code c} ({@link GradientClipping}). */
    public final O clipNorm(double c) { return withClipping(clipping.withNorm(c)); }

    /** Clamps every gradient element to [-v, v] ({@link GradientClipping}). */
    public final O clipValue(double v) { return withClipping(clipping.withValue(v)); }

    @Override public final double learningRate() { return lr; }
    @Override public final GradientClipping clipping() { return clipping; }

    @Override public final List<Node> updates(List<Variable> params, List<Node> rawGrads, Node lrNode, Node step, Node apply) {
        if (params.size() != rawGrads.size()) throw new IllegalArgumentException(params.size() + " parameters but " + rawGrads.size() + " gradients");
        List<Node> grads = clipping.apply(rawGrads);
        List<Node> effects = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) update(params.get(i), grads.get(i), lrNode, step, apply, effects);
        return effects;
    }

    /** {@code param}'s state variable named param/{@code suffix}, zeros of its shape, made on first use and kept. */
    final Variable slot(Variable param, String suffix) {
        return slots.computeIfAbsent(param, p -> new LinkedHashMap<>()).computeIfAbsent(suffix, s -> {
            Variable v = Variable.zeros(param.name() + "/" + s, param.shape());
            created.add(v);
            return v;
        });
    }

    @Override public final List<Variable> slots() { return List.copyOf(created); }
}
