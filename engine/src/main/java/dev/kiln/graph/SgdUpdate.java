package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * In-place SGD step, as PyTorch's torch.optim.SGD: g' = g + wd·p; v = μ·v + g';
 * d = nesterov ? g' + μ·v : v (or g' when μ = 0); p -= lr·d.
 * Inputs: param, grad, velocity (ignored when μ = 0; pass the param), lr (scalar), and when {@code conditional} an
 * apply flag (scalar): the step runs only where it is not 0, else nothing is written (as {@link AdamUpdate}'s).
 * Updates param and velocity in place; has no value.
 */
public record SgdUpdate(double momentum, boolean nesterov, double weightDecay, boolean conditional) implements Effect {
    public SgdUpdate(double momentum, boolean nesterov, double weightDecay) { this(momentum, nesterov, weightDecay, false); }

    /** This update, taking the apply flag as a fifth input. */
    public SgdUpdate onlyIfFlagged() { return new SgdUpdate(momentum, nesterov, weightDecay, true); }

    public String name() { return "sgd_update"; }
    public int arity() { return conditional ? 5 : 4; }
    public List<Integer> writes() { return List.of(0, 2); }
    public Shape inferShape(List<Shape> in) {
        Shape p = in.get(0);
        if (!in.get(1).equals(p) || !in.get(2).equals(p)) throw new IllegalArgumentException("param, grad and velocity must share a shape, got " + in.subList(0, 3));
        if (in.get(3).size() != 1) throw new IllegalArgumentException("learning rate must be a scalar");
        if (conditional && in.get(4).size() != 1) throw new IllegalArgumentException("the apply flag must be a scalar, got " + in.get(4));
        return Shape.SCALAR;
    }

    /**
     * The reference meaning on doubles, in place on {@code p} and {@code velocity} (untouched when μ = 0), for the
     * interpreter: rounds them to float and runs {@link #step}, so the interpreter and the CPU kernels agree bit for bit.
     */
    public void apply(double[] p, double[] grad, double[] velocity, double lr) {
        int n = p.length;
        float[] pf = new float[n], gf = new float[n], vf = new float[n];
        for (int i = 0; i < n; i++) { pf[i] = (float) p[i]; gf[i] = (float) grad[i]; vf[i] = (float) velocity[i]; }
        step(pf, 0, gf, 0, vf, 0, n, (float) lr, momentum, nesterov, weightDecay);
        for (int i = 0; i < n; i++) { p[i] = pf[i]; if (momentum != 0) velocity[i] = vf[i]; }
    }

    /**
     * The scalar meaning, the one statement of this formula in Kiln: n elements, in place, float arithmetic in
     * PyTorch's order. The interpreter ({@link #apply}) and the CPU backend's scalar twin call it; the CPU vector
     * kernel is tested bit for bit against it.
     */
    public static void step(float[] p, int pOff, float[] g, int gOff, float[] vel, int vOff, int n, float lr,
                            double momentum, boolean nesterov, double weightDecay) {
        float mu = (float) momentum, wd = (float) weightDecay;
        for (int i = 0; i < n; i++) {
            float gi = g[gOff + i] + wd * p[pOff + i];
            float d = gi;
            if (momentum != 0) {
                float v = mu * vel[vOff + i] + gi;
                vel[vOff + i] = v;
                d = nesterov ? gi + mu * v : v;
            }
            p[pOff + i] -= lr * d;
        }
    }
}
