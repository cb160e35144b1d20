package dev.kiln.cpu;

import dev.kiln.graph.AdamUpdate;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.ReduceFn;
import dev.kiln.graph.Rounding;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.UnaryFn;

/**
 * The scalar twins: plain float loops that read like the math. They are the fallback when the
 * Vector API is absent, the tails of the vector kernels, and the reference the vector kernels are
 * tested against (they in turn are tested against {@link UnaryFn#apply}/{@link BinaryFn#apply} in
 * double). Every formula here is the one the vector kernel evaluates lane by lane, so the two
 * differ only by the vector library's rounding of exp/log/tanh/pow and by summation order.
 */
public final class ScalarElementwise implements ElementwiseKernels {
    /** BCE's clip bounds in float: 1e-7 and the float nearest 1 - 1e-7. */
    static final float BCE_LO = (float) BinaryFn.BCE_EPSILON, BCE_HI = (float) (1 - BinaryFn.BCE_EPSILON);

    public ScalarElementwise() {}

    @Override public String name() { return "scalar"; }

    static float apply(UnaryFn fn, float x) {
        return switch (fn) {
            case NEG -> -x;
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case SQRT -> (float) Math.sqrt(x);
            case RSQRT -> 1f / (float) Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SIGN -> Math.signum(x);
            case RELU -> x > 0 ? x : 0f;
            // e^-|x| never overflows: σ(x) = 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below
            case SIGMOID -> {
                float e = (float) Math.exp(-Math.abs(x));
                float r = 1f / (1f + e);
                yield x >= 0 ? r : e * r;
            }
            case TANH -> (float) Math.tanh(x);
            case ROUND_BF16 -> Rounding.bf16(x);
            case ROUND_FP16 -> Rounding.fp16(x);
            case ROUND_TF32 -> Rounding.tf32(x);
        };
    }

    static float apply(BinaryFn fn, float a, float b) {
        return switch (fn) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case POW -> (float) Math.pow(a, b);
            case GREATER -> a > b ? 1f : 0f;
            case GREATER_EQUAL -> a >= b ? 1f : 0f;
            case LESS -> a < b ? 1f : 0f;
            case LESS_EQUAL -> a <= b ? 1f : 0f;
            case EQUAL -> a == b ? 1f : 0f;
            case NOT_EQUAL -> a != b ? 1f : 0f;
            case BCE_WITH_LOGITS -> Math.max(a, 0f) - a * b + (float) Math.log1p((float) Math.exp(-Math.abs(a)));
            case BCE -> {
                float q = Math.min(Math.max(a, BCE_LO), BCE_HI);
                yield -(b * (float) Math.log(q) + (1f - b) * (float) Math.log(1f - q));
            }
        };
    }

    @Override public void unary(UnaryFn fn, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = apply(fn, x[xOff + i]);
    }

    @Override public void binaryRun(BinaryFn fn, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = apply(fn, a[aOff + i * aStride], b[bOff + i * bStride]);
    }

    @Override public void whereRun(float[] c, int cOff, int cStride, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = c[cOff + i * cStride] != 0 ? a[aOff + i * aStride] : b[bOff + i * bStride];
    }

    @Override public void copyRun(float[] x, int xOff, int xStride, float[] y, int yOff, int yStride, int n) {
        for (int i = 0; i < n; i++) y[yOff + i * yStride] = x[xOff + i * xStride];
    }

    @Override public void fill(float[] y, int off, int n, float v) {
        for (int i = 0; i < n; i++) y[off + i] = v;
    }

    // ---------------------------------------------------------------- reductions

    @Override public void reduce(ReduceFn fn, ReducePlan p, float[] x, int xOff, float[] y, int yOff) {
        boolean max = fn == ReduceFn.MAX;
        if (p.isSimple()) {
            int outer = p.outer(), red = p.reduced(), inner = p.inner();
            for (int o = 0; o < outer; o++) {
                int xo = xOff + o * red * inner, yo = yOff + o * inner;
                if (inner == 1) {
                    y[yo] = max ? maxOf(x, xo, red) : sumOf(x, xo, red);
                } else {
                    // rows accumulate into y in order: the vector kernel does the same, lane-wise
                    copyRun(x, xo, 1, y, yo, 1, inner);
                    for (int r = 1; r < red; r++) accumulate(max, x, xo + r * inner, y, yo, inner);
                }
            }
        } else {
            reduceScatter(max, p, x, xOff, y, yOff);
        }
        if (fn == ReduceFn.MEAN) scale(y, yOff, p.outSize(), (float) (1.0 / p.count()));
    }

    /** The general form: y[scatter(p)] ⊕= x[p], walked in runs of the innermost merged axis. */
    void reduceScatter(boolean max, ReducePlan p, float[] x, int xOff, float[] y, int yOff) {
        StridedView v = p.scatter();
        fill(y, yOff, p.outSize(), max ? Float.NEGATIVE_INFINITY : 0f);
        int s = v.innerStride();
        for (int q = 0, n = p.size(); q < n; ) {
            int len = v.runLength(q), o = yOff + v.offsetAt(q);
            if (s == 0) y[o] = max ? Math.max(y[o], maxOf(x, xOff + q, len)) : y[o] + sumOf(x, xOff + q, len);
            else for (int j = 0; j < len; j++) {
                int t = o + j * s;
                y[t] = max ? Math.max(y[t], x[xOff + q + j]) : y[t] + x[xOff + q + j];
            }
            q += len;
        }
    }

    static float sumOf(float[] x, int off, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += x[off + i];
        return s;
    }

    static float maxOf(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    void accumulate(boolean max, float[] x, int xOff, float[] y, int yOff, int n) {
        if (max) for (int i = 0; i < n; i++) y[yOff + i] = Math.max(y[yOff + i], x[xOff + i]);
        else for (int i = 0; i < n; i++) y[yOff + i] += x[xOff + i];
    }

    void scale(float[] y, int off, int n, float s) {
        for (int i = 0; i < n; i++) y[off + i] *= s;
    }

    // ---------------------------------------------------------------- row kernels

    @Override public void softmax(boolean log, float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) softmaxRow(log, x, xOff + r * cols, y, yOff + r * cols, cols);
    }

    void softmaxRow(boolean log, float[] x, int xo, float[] y, int yo, int cols) {
        float m = maxOf(x, xo, cols);
        float s = 0;
        for (int c = 0; c < cols; c++) {
            float e = (float) Math.exp(x[xo + c] - m);
            if (!log) y[yo + c] = e;
            s += e;
        }
        if (log) {
            float shift = m + (float) Math.log(s);
            for (int c = 0; c < cols; c++) y[yo + c] = x[xo + c] - shift;
        } else {
            float inv = 1f / s;
            for (int c = 0; c < cols; c++) y[yo + c] *= inv;
        }
    }

    @Override public void softmaxCrossEntropy(float[] logits, int lOff, float[] labels, int labOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) y[yOff + r] = crossEntropyRow(logits, lOff + r * cols, labels, labOff + r * cols, cols);
    }

    /** -Σ l_c (z_c - lse) = lse · Σ l - Σ l·z, with lse = m + log Σ e^(z - m). */
    float crossEntropyRow(float[] z, int zo, float[] l, int lo, int cols) {
        float m = maxOf(z, zo, cols);
        float s = 0, sl = 0, slz = 0;
        for (int c = 0; c < cols; c++) {
            s += (float) Math.exp(z[zo + c] - m);
            sl += l[lo + c];
            slz += l[lo + c] * (z[zo + c] - m);
        }
        return (float) Math.log(s) * sl - slz;
    }

    @Override public void oneHot(float[] idx, int iOff, float[] y, int yOff, int n, int depth) {
        checkOneHot(idx, iOff, n, depth);
        fill(y, yOff, n * depth, 0f);
        for (int i = 0; i < n; i++) y[yOff + i * depth + (int) idx[iOff + i]] = 1f;
    }

    static void checkOneHot(float[] idx, int iOff, int n, int depth) {
        for (int i = 0; i < n; i++) {
            float v = idx[iOff + i];
            if (!(v >= 0 && v < depth && v == (int) v)) {
                throw new IllegalArgumentException("one-hot index " + v + " at position " + i + " is not a whole number in [0, " + depth + ")");
            }
        }
    }

    @Override public void dropout(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long seed, long step) {
        DropoutMask.apply(x, xOff, y, yOff, first, n, rate, seed, step);
    }

    @Override public void dropout(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long seed, long step, long[] bits) {
        DropoutMask.apply(x, xOff, y, yOff, first, n, rate, seed, step, bits);
    }

    @Override public void dropoutReplay(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long[] bits) {
        DropoutMask.replay(x, xOff, y, yOff, first, n, rate, bits);
    }

    @Override public void batchNorm(float[] x, int xOff, float[] mean, int mOff, float[] var, int vOff, float[] gamma, int gOff, float[] beta, int bOff,
                                    double eps, float[] y, int yOff, int rows, int channels) {
        float e = (float) eps;
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * channels, yo = yOff + r * channels;
            for (int c = 0; c < channels; c++) {
                float s = gamma[gOff + c] / (float) Math.sqrt(var[vOff + c] + e);
                y[yo + c] = (x[xo + c] - mean[mOff + c]) * s + beta[bOff + c];
            }
        }
    }

    @Override public void sgdUpdate(float[] p, int pOff, float[] g, int gOff, float[] vel, int vOff, int n, float lr, double momentum, boolean nesterov, double weightDecay) {
        SgdUpdate.step(p, pOff, g, gOff, vel, vOff, n, lr, momentum, nesterov, weightDecay);
    }

    @Override public void adamUpdate(float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff, int n, float lr, long step,
                                     double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        AdamUpdate.step(p, pOff, g, gOff, m, mOff, v, vOff, n, lr, step, beta1, beta2, eps, weightDecay, decoupled);
    }
}
