package dev.kiln.optim;

import dev.kiln.graph.AdamUpdate;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;

import java.util.List;

/**
 * Adam and AdamW with PyTorch's numerics ({@link AdamUpdate}).
 *
 * <pre>{@code Optimizer opt = Adam.lr(1e-3); Optimizer w = Adam.lr(1e-3).adamW(0.01); }</pre>
 */
public final class Adam extends AbstractOptimizer<Adam> {
    private final AdamUpdate op;

    private Adam(double lr, AdamUpdate op, GradientClipping clipping) {
        super(lr, clipping);
        this.op = op;
    }

    public static Adam lr(double lr) { return new Adam(lr, new AdamUpdate(0.9, 0.999, 1e-8, 0, false), GradientClipping.NONE); }

    public Adam betas(double beta1, double beta2) { return with(new AdamUpdate(beta1, beta2, op.epsilon(), op.weightDecay(), op.decoupled())); }
    public Adam epsilon(double eps) { return with(new AdamUpdate(op.beta1(), op.beta2(), eps, op.weightDecay(), op.decoupled())); }
    /** L2 penalty added to the gradient (torch.optim.Adam's weight_decay). */
    public Adam weightDecay(double wd) { return with(new AdamUpdate(op.beta1(), op.beta2(), op.epsilon(), wd, false)); }
    /** Decoupled weight decay (torch.optim.AdamW). */
    public Adam adamW(double wd) { return with(new AdamUpdate(op.beta1(), op.beta2(), op.epsilon(), wd, true)); }

    private Adam with(AdamUpdate o) { return new Adam(learningRate(), o, clipping()); }
    @Override Adam withClipping(GradientClipping c) { return new Adam(learningRate(), op, c); }

    public AdamUpdate op() { return op; }

    @Override void update(Variable p, Node grad, Node lr, Node step, Node apply, List<Node> effects) {
        effects.add(Ops.adamUpdate(Ops.param(p), grad, Ops.param(slot(p, "adam_m")), Ops.param(slot(p, "adam_v")), lr, step, apply, op));
    }
}
