package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * In-place SGD step, as PyTorch's torch.optim.SGD: g' = g + wd·p; v = μ·v + g';
 * d = nesterov ? g' + μ·v : v (or g' when μ = 0); p -= lr·d.
 * Inputs: param, grad, velocity (ignored when μ = 0; pass the param), lr (scalar).
 * Updates param and velocity in place; has no value.
 */
public record SgdUpdate(double momentum, boolean nesterov, double weightDecay) implements Effect {
    public String name() { return "sgd_update"; }
    public int arity() { return 4; }
    public List<Integer> writes() { return List.of(0, 2); }
    public Shape inferShape(List<Shape> in) {
        Shape p = in.get(0);
        if (!in.get(1).equals(p) || !in.get(2).equals(p)) throw new IllegalArgumentException("param, grad and velocity must share a shape, got " + in.subList(0, 3));
        if (in.get(3).size() != 1) throw new IllegalArgumentException("learning rate must be a scalar");
        return Shape.SCALAR;
    }

    /** The reference meaning, in double, in place on {@code p} and {@code velocity} (untouched when μ = 0). */
    public void apply(double[] p, double[] grad, double[] velocity, double lr) {
        for (int i = 0; i < p.length; i++) {
            double g = grad[i] + weightDecay * p[i];
            double d = g;
            if (momentum != 0) {
                velocity[i] = momentum * velocity[i] + g;
                d = nesterov ? g + momentum * velocity[i] : velocity[i];
            }
            p[i] -= lr * d;
        }
    }
}
