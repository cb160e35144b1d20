package dev.kiln.optim;

import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.Variable;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with optional momentum, Nesterov and weight decay, with PyTorch's
 * numerics ({@link SgdUpdate}).
 *
 * <pre>{@code Optimizer opt = Sgd.lr(0.05).momentum(0.9).nesterov(); }</pre>
 */
public final class Sgd implements Optimizer {
    private final double lr;
    private final SgdUpdate op;
    private final GradientClipping clipping;
    private final Map<Variable, Variable> velocity = new IdentityHashMap<>();

    private Sgd(double lr, SgdUpdate op, GradientClipping clipping) {
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        this.lr = lr;
        this.op = op;
        this.clipping = clipping;
    }

    public static Sgd lr(double lr) { return new Sgd(lr, new SgdUpdate(0, false, 0), GradientClipping.NONE); }

    public Sgd momentum(double m) { return new Sgd(lr, new SgdUpdate(m, op.nesterov(), op.weightDecay()), clipping); }
    public Sgd nesterov() { return new Sgd(lr, new SgdUpdate(op.momentum(), true, op.weightDecay()), clipping); }
    public Sgd weightDecay(double wd) { return new Sgd(lr, new SgdUpdate(op.momentum(), op.nesterov(), wd), clipping); }
    /** Scales all gradients together so their global L2 norm is at most {@code c} ({@link GradientClipping}). */
    public Sgd clipNorm(double c) { return new Sgd(lr, op, clipping.withNorm(c)); }
    /** Clamps every gradient element to [-v, v] ({@link GradientClipping}). */
    public Sgd clipValue(double v) { return new Sgd(lr, op, clipping.withValue(v)); }

    @Override public GradientClipping clipping() { return clipping; }

    @Override public double learningRate() { return lr; }

    @Override public List<Node> updates(List<Variable> params, List<Node> rawGrads, Node lrNode, Node step) {
        List<Node> grads = clipping.apply(rawGrads);
        List<Node> effects = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Variable p = params.get(i);
            Variable v = velocity.computeIfAbsent(p, x -> Variable.zeros(x.name() + "/sgd_velocity", x.shape()));
            effects.add(Ops.sgdUpdate(Ops.param(p), grads.get(i), Ops.param(v), lrNode, op));
        }
        return effects;
    }

    @Override public List<Variable> slots() { return new ArrayList<>(velocity.values()); }
}
