package dev.kiln.optim;

import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;

import java.util.List;

import static dev.kiln.graph.Ops.*;

/**
 * RMSprop with PyTorch's numerics (torch.optim.RMSprop) and PyTorch's defaults (alpha 0.99, eps 1e-8,
 * as {@link Adam} keeps PyTorch's eps), so a PyTorch script with the same hyper-parameters gives
 * the same weights:
 * <pre>
 * g' = g + wd·p
 * s  = α·s + (1-α)·g'²                     (square_avg)
 * c  = α·c + (1-α)·g'                      (grad_avg, centered only)
 * d  = sqrt(s - c²) + eps  (centered)  |  sqrt(s) + eps
 * b  = μ·b + g'/d                          (momentum_buffer, μ > 0 only)
 * p -= lr·b  (μ > 0)  |  lr·g'/d
 * </pre>
 * Keras's RMSprop(learning_rate=1e-3) is {@code RMSprop.lr(1e-3).rho(0.9).epsilon(1e-7)} up to where
 * eps sits: Keras divides by sqrt(s + eps), PyTorch (and Kiln) by sqrt(s) + eps.
 *
 * <p>The update is composed of elementwise ops and {@code assign} effects (no dedicated op): all new
 * values are computed from the old state before any effect writes, so the order of assignments does
 * not matter.
 *
 * <pre>{@code Optimizer opt = RMSprop.lr(1e-3).rho(0.9).momentum(0.9).centered(); }</pre>
 */
public final class RMSprop extends AbstractOptimizer<RMSprop> {
    private final double rho, epsilon, momentum, weightDecay;
    private final boolean centered;

    private RMSprop(double lr, double rho, double epsilon, double momentum, double weightDecay, boolean centered, GradientClipping clipping) {
        super(lr, clipping);
        if (!(rho >= 0 && rho < 1)) throw new IllegalArgumentException("RMSprop rho (alpha) must be in [0, 1), got " + rho);
        if (!(epsilon >= 0)) throw new IllegalArgumentException("RMSprop epsilon must be >= 0, got " + epsilon);
        if (!(momentum >= 0)) throw new IllegalArgumentException("RMSprop momentum must be >= 0, got " + momentum);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("RMSprop weight decay must be >= 0, got " + weightDecay);
        this.rho = rho;
        this.epsilon = epsilon;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.centered = centered;
    }

    /** PyTorch's defaults: rho (alpha) 0.99, eps 1e-8, no momentum, not centered, no weight decay. */
    public static RMSprop lr(double lr) { return new RMSprop(lr, 0.99, 1e-8, 0, 0, false, GradientClipping.NONE); }

    /** Decay of the moving average of squared gradients (PyTorch's alpha, Keras's rho). */
    public RMSprop rho(double r) { return new RMSprop(learningRate(), r, epsilon, momentum, weightDecay, centered, clipping()); }
    public RMSprop epsilon(double e) { return new RMSprop(learningRate(), rho, e, momentum, weightDecay, centered, clipping()); }
    public RMSprop momentum(double m) { return new RMSprop(learningRate(), rho, epsilon, m, weightDecay, centered, clipping()); }
    /** Divides by an estimate of the gradient's variance instead of its second moment. */
    public RMSprop centered() { return new RMSprop(learningRate(), rho, epsilon, momentum, weightDecay, true, clipping()); }
    /** L2 penalty added to the gradient (torch.optim.RMSprop's weight_decay). */
    public RMSprop weightDecay(double wd) { return new RMSprop(learningRate(), rho, epsilon, momentum, wd, centered, clipping()); }
    @Override RMSprop withClipping(GradientClipping c) { return new RMSprop(learningRate(), rho, epsilon, momentum, weightDecay, centered, c); }

    public double rho() { return rho; }
    public double epsilon() { return epsilon; }
    public double momentum() { return momentum; }
    public double weightDecay() { return weightDecay; }
    public boolean isCentered() { return centered; }

    @Override void update(Variable p, Node grad, Node lr, Node step, Node apply, List<Node> effects) {
        Node param = param(p);
        Node g = grad;
        if (weightDecay != 0) g = add(g, mul(scalar(weightDecay), param));
        Node squareAvg = param(slot(p, "rmsprop_square_avg"));
        Node newSquareAvg = add(mul(scalar(rho), squareAvg), mul(scalar(1 - rho), square(g)));
        effects.add(assignIf(apply, squareAvg, newSquareAvg));
        Node variance = newSquareAvg;
        if (centered) {
            Node gradAvg = param(slot(p, "rmsprop_grad_avg"));
            Node newGradAvg = add(mul(scalar(rho), gradAvg), mul(scalar(1 - rho), g));
            effects.add(assignIf(apply, gradAvg, newGradAvg));
            // s - c² >= 0 in exact arithmetic (Cauchy-Schwarz over the EMA weights); the floor
            // only keeps float rounding from turning it into sqrt(negative) = NaN
            variance = maximum(sub(newSquareAvg, square(newGradAvg)), scalar(0));
        }
        Node direction = div(g, add(sqrt(variance), scalar(epsilon)));
        if (momentum > 0) {
            Node buffer = param(slot(p, "rmsprop_momentum"));
            direction = add(mul(scalar(momentum), buffer), direction);
            effects.add(assignIf(apply, buffer, direction));
        }
        effects.add(assignIf(apply, param, sub(param, mul(lr, direction))));
    }
}
