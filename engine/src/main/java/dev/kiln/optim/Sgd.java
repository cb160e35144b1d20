package dev.kiln.optim;

import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.Variable;

import java.util.List;

/**
 * Stochastic gradient descent with optional momentum, Nesterov and weight decay, with PyTorch's
 * numerics ({@link SgdUpdate}).
 *
 * <pre>{@code Optimizer opt = Sgd.lr(0.05).momentum(0.9).nesterov(); }</pre>
 */
public final class Sgd extends AbstractOptimizer<Sgd> {
    private final SgdUpdate op;

    private Sgd(double lr, SgdUpdate op, GradientClipping clipping) {
        super(lr, clipping);
        this.op = op;
    }

    public static Sgd lr(double lr) { return new Sgd(lr, new SgdUpdate(0, false, 0), GradientClipping.NONE); }

    public Sgd momentum(double m) { return with(new SgdUpdate(m, op.nesterov(), op.weightDecay())); }
    public Sgd nesterov() { return with(new SgdUpdate(op.momentum(), true, op.weightDecay())); }
    public Sgd weightDecay(double wd) { return with(new SgdUpdate(op.momentum(), op.nesterov(), wd)); }

    private Sgd with(SgdUpdate o) { return new Sgd(learningRate(), o, clipping()); }
    @Override Sgd withClipping(GradientClipping c) { return new Sgd(learningRate(), op, c); }

    @Override void update(Variable p, Node grad, Node lr, Node step, Node apply, List<Node> effects) {
        effects.add(Ops.sgdUpdate(Ops.param(p), grad, Ops.param(slot(p, "sgd_velocity")), lr, apply, op));
    }
}
