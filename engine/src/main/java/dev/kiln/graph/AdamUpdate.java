package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * In-place Adam/AdamW step, as PyTorch's torch.optim.Adam / AdamW:
 * AdamW first decays p *= 1 - lr·wd, Adam adds wd·p to g; m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
 * p -= lr / (1-β1^t) · m / (sqrt(v) / sqrt(1-β2^t) + eps).
 * Inputs: param, grad, m, v, lr (scalar), step t (scalar, counting from 1). Updates param, m, v.
 */
public record AdamUpdate(double beta1, double beta2, double epsilon, double weightDecay, boolean decoupled) implements Effect {
    public String name() { return decoupled ? "adamw_update" : "adam_update"; }
    public int arity() { return 6; }
    public List<Integer> writes() { return List.of(0, 2, 3); }
    public Shape inferShape(List<Shape> in) {
        Shape p = in.get(0);
        for (int i = 1; i < 4; i++) if (!in.get(i).equals(p)) throw new IllegalArgumentException("param, grad, m and v must share a shape, got " + in.subList(0, 4));
        if (in.get(4).size() != 1 || in.get(5).size() != 1) throw new IllegalArgumentException("learning rate and step must be scalars");
        return Shape.SCALAR;
    }

    /**
     * The reference meaning, in double, in place on {@code p}, {@code m}, {@code v}: the one scalar statement of
     * this formula in the engine (the interpreter calls it; backend kernels are tested against it).
     */
    public void apply(double[] p, double[] grad, double[] m, double[] v, double lr, double t) {
        double bias1 = 1 - Math.pow(beta1, t), bias2 = 1 - Math.pow(beta2, t);
        for (int i = 0; i < p.length; i++) {
            double g = grad[i];
            if (decoupled) p[i] *= 1 - lr * weightDecay;
            else g += weightDecay * p[i];
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            p[i] -= lr / bias1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bias2) + epsilon);
        }
    }
}
