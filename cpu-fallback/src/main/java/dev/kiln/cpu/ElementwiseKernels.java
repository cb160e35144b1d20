package dev.kiln.cpu;

import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.ReduceFn;
import dev.kiln.graph.UnaryFn;

/**
 * The CPU backend's kernels other than GEMM, convolution and pooling, as in Lucene's Panama
 * vector utilities: one interface, a Java Vector API implementation ({@code VectorElementwise})
 * and a plain scalar twin ({@link ScalarElementwise}) that reads like the math, chosen once at run
 * time by {@link #best()} and tested against each other.
 *
 * <p>Contract for every method: float[] buffers with int offsets, no allocation, no hidden state
 * (safe to call from several threads on disjoint outputs). Anything derived from shapes is
 * precomputed into {@link StridedView}, {@link ReducePlan} or {@link FusedKernel} at compile time.
 * Broadcast, transpose and slice operands are walked as runs along the views' innermost axes: the
 * {@code *Run} methods take one run each (stride 1, 0 for a broadcast scalar, or any stride).
 *
 * <pre>{@code
 * ElementwiseKernels k = ElementwiseKernels.best();
 * k.unary(UnaryFn.RELU, x, 0, y, 0, x.length);
 * }</pre>
 */
public interface ElementwiseKernels {

    /** The Vector API kernels when {@code jdk.incubator.vector} is present (and not switched off), else the scalar twins; logged once. */
    static ElementwiseKernels best() { return KernelChoice.BEST.elementwise(); }

    /** The scalar twins; never links {@code jdk.incubator.vector}. */
    static ElementwiseKernels scalar() { return KernelChoice.SCALAR.elementwise(); }

    /** "vector(16 x float)" or "scalar". */
    String name();

    // ---------------------------------------------------------------- elementwise

    /** y[i] = fn(x[i]) for i in [0, n). In place (y == x, same offset) is allowed. */
    void unary(UnaryFn fn, float[] x, int xOff, float[] y, int yOff, int n);

    /** y[yOff + i] = fn(a[aOff + i·aStride], b[bOff + i·bStride]) for i in [0, n); comparisons give 1 or 0. */
    void binaryRun(BinaryFn fn, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride, float[] y, int yOff, int n);

    /** y[yOff + i] = c[..] != 0 ? a[..] : b[..], each operand at its own stride (see {@link #binaryRun}). */
    void whereRun(float[] c, int cOff, int cStride, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride, float[] y, int yOff, int n);

    /** y[yOff + i·yStride] = x[xOff + i·xStride] for i in [0, n). */
    void copyRun(float[] x, int xOff, int xStride, float[] y, int yOff, int yStride, int n);

    /** y[off .. off + n) = v. */
    void fill(float[] y, int off, int n, float v);

    /** y[p] = fn(a through av at p, b through bv at p) for logical elements p in [0, n), y contiguous. */
    default void binary(BinaryFn fn, float[] a, int aOff, StridedView av, float[] b, int bOff, StridedView bv, float[] y, int yOff, int n) {
        binary(fn, a, aOff, av, b, bOff, bv, 0, y, yOff, n);
    }

    /** As above for logical elements [start, start + n), written to y[yOff .. yOff + n) (a tile or a thread's share). */
    default void binary(BinaryFn fn, float[] a, int aOff, StridedView av, float[] b, int bOff, StridedView bv, int start, float[] y, int yOff, int n) {
        int as = av.innerStride(), bs = bv.innerStride();
        for (int p = start, end = start + n; p < end; ) {
            int len = Math.min(end - p, Math.min(av.runLength(p), bv.runLength(p)));
            binaryRun(fn, a, aOff + av.offsetAt(p), as, b, bOff + bv.offsetAt(p), bs, y, yOff + (p - start), len);
            p += len;
        }
    }

    /** y[p] = c[p] != 0 ? a[p] : b[p], each read through its view, for logical elements p in [0, n). */
    default void where(float[] c, int cOff, StridedView cv, float[] a, int aOff, StridedView av, float[] b, int bOff, StridedView bv, float[] y, int yOff, int n) {
        where(c, cOff, cv, a, aOff, av, b, bOff, bv, 0, y, yOff, n);
    }

    default void where(float[] c, int cOff, StridedView cv, float[] a, int aOff, StridedView av, float[] b, int bOff, StridedView bv, int start, float[] y, int yOff, int n) {
        int cs = cv.innerStride(), as = av.innerStride(), bs = bv.innerStride();
        for (int p = start, end = start + n; p < end; ) {
            int len = Math.min(Math.min(end - p, cv.runLength(p)), Math.min(av.runLength(p), bv.runLength(p)));
            whereRun(c, cOff + cv.offsetAt(p), cs, a, aOff + av.offsetAt(p), as, b, bOff + bv.offsetAt(p), bs, y, yOff + (p - start), len);
            p += len;
        }
    }

    /** Gather: y[yOff + p] = x[xOff + v.offsetAt(p)] for p in [0, n): transpose, slice, broadcast. */
    default void copy(float[] x, int xOff, StridedView v, float[] y, int yOff, int n) { copy(x, xOff, v, 0, y, yOff, n); }

    /** Gather of logical elements [start, start + n) into y[yOff .. yOff + n). */
    default void copy(float[] x, int xOff, StridedView v, int start, float[] y, int yOff, int n) {
        int s = v.innerStride();
        for (int p = start, end = start + n; p < end; ) {
            int len = Math.min(end - p, v.runLength(p));
            copyRun(x, xOff + v.offsetAt(p), s, y, yOff + (p - start), 1, len);
            p += len;
        }
    }

    /**
     * Scatter: y[yOff + dst.offsetAt(p)] = x[xOff + p] for p in [0, n). With
     * {@link StridedView#subRegion} this writes pad's interior and concat's bands.
     */
    default void copyInto(float[] x, int xOff, float[] y, int yOff, StridedView dst, int n) {
        int s = dst.innerStride();
        for (int p = 0; p < n; ) {
            int len = Math.min(n - p, dst.runLength(p));
            copyRun(x, xOff + p, 1, y, yOff + dst.offsetAt(p), s, len);
            p += len;
        }
    }

    // ---------------------------------------------------------------- reductions and row kernels

    /** y[outSize] = fn over the plan's reduced axes of x[size] (MEAN = SUM / count, MAX propagates NaN). */
    void reduce(ReduceFn fn, ReducePlan p, float[] x, int xOff, float[] y, int yOff);

    /** Softmax (or log-softmax) of each row of x[rows, cols], max-subtracted. In place allowed. */
    void softmax(boolean log, float[] x, int xOff, float[] y, int yOff, int rows, int cols);

    /** y[r] = -Σ_c labels[r, c] · log_softmax(logits[r, :])_c. */
    void softmaxCrossEntropy(float[] logits, int lOff, float[] labels, int labOff, float[] y, int yOff, int rows, int cols);

    /** y[n, depth] = one_hot(idx[n]); throws IllegalArgumentException naming the value and position of a bad index, before writing. */
    void oneHot(float[] idx, int iOff, float[] y, int yOff, int n, int depth);

    /** y[i] = keep(i) ? x[i] / (1 - rate) : 0 with keep(i) = {@link dev.kiln.graph.Philox#keep}(seed, step, i, rate), i from 0. */
    default void dropout(float[] x, int xOff, float[] y, int yOff, int n, double rate, long seed, long step) {
        dropout(x, xOff, y, yOff, 0, n, rate, seed, step);
    }

    /** Dropout of elements [first, first + n) of a tensor (a thread's share): x and y offsets point at element {@code first}. */
    void dropout(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long seed, long step);

    /**
     * As above, also recording keep(e) as bit e mod 64 of {@code bits[e / 64]} for the tensor's elements e; threads
     * sharing {@code bits} must own whole words (shares starting and ending on multiples of 64 or at the end).
     */
    void dropout(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long seed, long step, long[] bits);

    /** y[i] = bit (first + i) of {@code bits} ? x[i] / (1 - rate) : 0: a mask recorded by the dropout above, applied again. */
    void dropoutReplay(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long[] bits);

    /** y[r, c] = (x[r, c] - mean[c]) · gamma[c] / sqrt(var[c] + eps) + beta[c] over x[rows, channels]. */
    void batchNorm(float[] x, int xOff, float[] mean, int mOff, float[] var, int vOff, float[] gamma, int gOff, float[] beta, int bOff,
                   double eps, float[] y, int yOff, int rows, int channels);

    /** In-place SGD step with PyTorch's semantics (see {@link dev.kiln.graph.SgdUpdate}); vel is untouched when momentum = 0. */
    void sgdUpdate(float[] p, int pOff, float[] g, int gOff, float[] vel, int vOff, int n, float lr, double momentum, boolean nesterov, double weightDecay);

    /** In-place Adam/AdamW step with PyTorch's semantics (see {@link dev.kiln.graph.AdamUpdate}); step counts from 1. */
    void adamUpdate(float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff, int n, float lr, long step,
                    double beta1, double beta2, double eps, double weightDecay, boolean decoupled);
}
