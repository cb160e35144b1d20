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
     * The reference meaning on doubles, in place on {@code p}, {@code m}, {@code v}, for the interpreter: rounds them
     * to float and runs {@link #step}, so the interpreter, the CPU twin and the vector kernel agree bit for bit.
     */
    public void apply(double[] p, double[] grad, double[] m, double[] v, double lr, double t) {
        int n = p.length;
        float[] pf = new float[n], gf = new float[n], mf = new float[n], vf = new float[n];
        for (int i = 0; i < n; i++) { pf[i] = (float) p[i]; gf[i] = (float) grad[i]; mf[i] = (float) m[i]; vf[i] = (float) v[i]; }
        step(pf, 0, gf, 0, mf, 0, vf, 0, n, Constants.of((float) lr, (long) t, beta1, beta2, epsilon, weightDecay, decoupled));
        for (int i = 0; i < n; i++) { p[i] = pf[i]; m[i] = mf[i]; v[i] = vf[i]; }
    }

    /**
     * One step's float constants, as PyTorch computes them: decay = 1 − lr·wd (AdamW; else 1) and wd (Adam's L2;
     * else 0), the moments' β and 1 − β, stepSize = lr / (1 − β1^t) and sqrtBc2 = sqrt(1 − β2^t) (pow in double,
     * then rounded). The vector kernel takes its lanes' constants from here too.
     */
    public record Constants(float decay, float wd, float b1, float c1, float b2, float c2, float stepSize, float sqrtBc2, float eps) {
        public static Constants of(float lr, long t, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
            return new Constants(decoupled ? (float) (1 - lr * weightDecay) : 1f, decoupled ? 0f : (float) weightDecay,
                    (float) beta1, (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
                    (float) (lr / (1 - Math.pow(beta1, t))), (float) Math.sqrt(1 - Math.pow(beta2, t)), (float) eps);
        }
    }

    /**
     * The scalar meaning, the one statement of this formula in Kiln: n elements, in place, float arithmetic in
     * PyTorch's order (no fused multiply-add). The interpreter ({@link #apply}) and the CPU backend's scalar twin
     * call it; the CPU vector kernel is tested bit for bit against it and the CUDA kernel within stated ulps.
     */
    public static void step(float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff, int n, Constants k) {
        for (int i = 0; i < n; i++) {
            float pi = p[pOff + i] * k.decay;
            float gi = g[gOff + i] + k.wd * pi;
            float mi = k.b1 * m[mOff + i] + k.c1 * gi;
            float vi = k.b2 * v[vOff + i] + k.c2 * gi * gi;
            m[mOff + i] = mi;
            v[vOff + i] = vi;
            p[pOff + i] = pi - k.stepSize * mi / ((float) Math.sqrt(vi) / k.sqrtBc2 + k.eps);
        }
    }
}
