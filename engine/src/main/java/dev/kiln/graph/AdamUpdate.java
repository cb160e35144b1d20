package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * In-place Adam/AdamW step, as PyTorch's torch.optim.Adam / AdamW:
 * AdamW first decays p *= 1 - lr·wd, Adam adds wd·p to g; m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
 * p -= lr / (1-β1^t) · m / (sqrt(v) / sqrt(1-β2^t) + eps).
 * Inputs: param, grad, m, v, lr (scalar), step t (scalar, counting from 1), and when {@code conditional} an apply
 * flag (scalar): the step runs only where it is not 0, else nothing is written (torch's fused Adam's found_inf, which
 * dynamic loss scaling feeds so an overflowing step is skipped on the device). Updates param, m, v.
 */
public record AdamUpdate(double beta1, double beta2, double epsilon, double weightDecay, boolean decoupled, boolean conditional) implements Effect {
    public AdamUpdate(double beta1, double beta2, double epsilon, double weightDecay, boolean decoupled) { this(beta1, beta2, epsilon, weightDecay, decoupled, false); }

    /** This update, taking the apply flag as a seventh input. */
    public AdamUpdate onlyIfFlagged() { return new AdamUpdate(beta1, beta2, epsilon, weightDecay, decoupled, true); }

    public String name() { return decoupled ? "adamw_update" : "adam_update"; }
    public int arity() { return conditional ? 7 : 6; }
    public List<Integer> writes() { return List.of(0, 2, 3); }
    public Shape inferShape(List<Shape> in) {
        Shape p = in.get(0);
        for (int i = 1; i < 4; i++) if (!in.get(i).equals(p)) throw new IllegalArgumentException("param, grad, m and v must share a shape, got " + in.subList(0, 4));
        if (in.get(4).size() != 1 || in.get(5).size() != 1) throw new IllegalArgumentException("learning rate and step must be scalars");
        if (conditional && in.get(6).size() != 1) throw new IllegalArgumentException("the apply flag must be a scalar, got " + in.get(6));
        return Shape.SCALAR;
    }

    /**
     * The reference meaning on doubles, in place on {@code p}, {@code m}, {@code v}, for the interpreter: rounds them
     * to float and runs {@link #step}, so the interpreter, the CPU twin and the vector kernel agree bit for bit.
     */
    public void apply(double[] p, double[] grad, double[] m, double[] v, double lr, double t) {
        int n = p.length;
        float[] pf = new float[n], gf = new float[n], mf = new float[n], vf = new float[n];
        for (int i = 0; i < n; i++) { pf[i] = (float) p[i]; gf[i] = (float) grad[i]; mf[i] = (float) m[i]; vf[i] = (float) v[i]; }
        step(pf, 0, gf, 0, mf, 0, vf, 0, n, (float) lr, (long) t, beta1, beta2, epsilon, weightDecay, decoupled);
        for (int i = 0; i < n; i++) { p[i] = pf[i]; m[i] = mf[i]; v[i] = vf[i]; }
    }

    // One step's float constants, as PyTorch computes them (pow in double, then rounded); the vector kernel takes
    // its lanes' constants from here too. Plain floats, not a record: a record passed to a kernel that C2 does not
    // inline is allocated on every call.

    /** 1 − lr·wd for AdamW (decoupled decay, applied to p first), else 1. */
    public static float decay(float lr, double weightDecay, boolean decoupled) { return decoupled ? (float) (1 - lr * weightDecay) : 1f; }

    /** Adam's L2 term, added to the gradient: wd, or 0 for AdamW. */
    public static float l2(double weightDecay, boolean decoupled) { return decoupled ? 0f : (float) weightDecay; }

    /** lr / (1 − β1^t). */
    public static float stepSize(float lr, long t, double beta1) { return (float) (lr / (1 - Math.pow(beta1, t))); }

    /** sqrt(1 − β2^t). */
    public static float sqrtBc2(long t, double beta2) { return (float) Math.sqrt(1 - Math.pow(beta2, t)); }

    /**
     * The scalar meaning, the one statement of this formula in Kiln: n elements, in place, float arithmetic in
     * PyTorch's order (no fused multiply-add). The interpreter ({@link #apply}) and the CPU backend's scalar twin
     * call it; the CPU vector kernel is tested bit for bit against it and the CUDA kernel within stated ulps.
     */
    public static void step(float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff, int n, float lr, long t,
                            double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        float decay = decay(lr, weightDecay, decoupled), wd = l2(weightDecay, decoupled), stepSize = stepSize(lr, t, beta1), sqrtBc2 = sqrtBc2(t, beta2);
        float b1 = (float) beta1, c1 = (float) (1 - beta1), b2 = (float) beta2, c2 = (float) (1 - beta2), e = (float) eps;
        for (int i = 0; i < n; i++) {
            float pi = p[pOff + i] * decay;
            float gi = g[gOff + i] + wd * pi;
            float mi = b1 * m[mOff + i] + c1 * gi;
            float vi = b2 * v[vOff + i] + c2 * gi * gi;
            m[mOff + i] = mi;
            v[vOff + i] = vi;
            p[pOff + i] = pi - stepSize * mi / ((float) Math.sqrt(vi) / sqrtBc2 + e);
        }
    }
}
