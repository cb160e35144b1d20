package dev.kiln.optim;

import dev.kiln.graph.AdamUpdate;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam and AdamW with PyTorch's numerics ({@link AdamUpdate}).
 *
 * <pre>{@code Optimizer opt = Adam.lr(1e-3); Optimizer w = Adam.lr(1e-3).adamW(0.01); }</pre>
 */
public final class Adam implements Optimizer {
    private final double lr;
    private final AdamUpdate op;
    private final GradientClipping clipping;
    private final Map<Variable, Variable[]> slots = new IdentityHashMap<>();

    private Adam(double lr, AdamUpdate op, GradientClipping clipping) {
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        this.lr = lr;
        this.op = op;
        this.clipping = clipping;
    }

    public static Adam lr(double lr) { return new Adam(lr, new AdamUpdate(0.9, 0.999, 1e-8, 0, false), GradientClipping.NONE); }

    public Adam betas(double beta1, double beta2) { return new Adam(lr, new AdamUpdate(beta1, beta2, op.epsilon(), op.weightDecay(), op.decoupled()), clipping); }
    public Adam epsilon(double eps) { return new Adam(lr, new AdamUpdate(op.beta1(), op.beta2(), eps, op.weightDecay(), op.decoupled()), clipping); }
    /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay). */
    public Adam weightDecay(double wd) { return new Adam(lr, new AdamUpdate(op.beta1(), op.beta2(), op.epsilon(), wd, false), clipping); }
    /** Decoupled weight decay (torch.optim.AdamW). */
    public Adam adamW(double wd) { return new Adam(lr, new AdamUpdate(op.beta1(), op.beta2(), op.epsilon(), wd, true), clipping); }

    /** Scales all gradients together so their global L2 norm is at most {@code c} ({@link GradientClipping}). */
    public Adam clipNorm(double c) { return new Adam(lr, op, clipping.withNorm(c)); }
    /** Clamps every gradient element to [-v, v] ({@link GradientClipping}). */
    public Adam clipValue(double v) { return new Adam(lr, op, clipping.withValue(v)); }

    public AdamUpdate op() { return op; }

    @Override public GradientClipping clipping() { return clipping; }

    @Override public double learningRate() { return lr; }

    @Override public List<Node> updates(List<Variable> params, List<Node> rawGrads, Node lrNode, Node step) {
        List<Node> grads = clipping.apply(rawGrads);
        List<Node> effects = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Variable p = params.get(i);
            Variable[] s = slots.computeIfAbsent(p, v -> new Variable[] {
                    Variable.zeros(v.name() + "/adam_m", v.shape()), Variable.zeros(v.name() + "/adam_v", v.shape())});
            effects.add(Ops.adamUpdate(Ops.param(p), grads.get(i), Ops.param(s[0]), Ops.param(s[1]), lrNode, step, op));
        }
        return effects;
    }

    @Override public List<Variable> slots() {
        List<Variable> all = new ArrayList<>();
        for (Variable[] s : slots.values()) all.addAll(List.of(s));
        return all;
    }
}
