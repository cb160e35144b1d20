package dev.kiln.cpu;

import dev.kiln.graph.AdamUpdate;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.ReduceFn;
import dev.kiln.graph.UnaryFn;
import dev.kiln.graph.Rounding;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The Vector API kernels, with the preferred species (16 floats on AVX-512, 8 on AVX2).
 *
 * <p>Layout, as in Lucene and llama3.java: inputs shorter than one vector go to the scalar twin;
 * the body runs whole vectors up to {@code SPECIES.loopBound(n)}; the remaining {@code n mod L}
 * elements go to the twin. Streaming kernels (unary, binary, where, optimizer updates) are memory
 * bound, so they run one vector per iteration; reductions (sum, max, softmax's row statistics)
 * are latency bound on the add chain, so they keep four independent accumulators (4·L elements per
 * iteration), add them lanewise and then add the lanes in {@link LaneSum}'s fixed order, never with
 * {@code reduceLanes(ADD)}, whose order differs between the interpreter and C2: a sum's bits depend on the
 * length only, not on how far the JIT has got.
 *
 * <p>Each formula is the twin's, lane by lane and in the same order (no FMA contraction), so the
 * two agree exactly except where the vector library's exp/log/tanh/pow rounds differently (a few
 * ulp) and where the accumulator split reorders a sum.
 */
public final class VectorElementwise implements ElementwiseKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ScalarElementwise TWIN = new ScalarElementwise();
    private static final FloatVector ZERO = FloatVector.zero(S), ONE = FloatVector.broadcast(S, 1f),
            MINUS_ONE = FloatVector.broadcast(S, -1f), INF = FloatVector.broadcast(S, Float.POSITIVE_INFINITY),
            BCE_LO = FloatVector.broadcast(S, ScalarElementwise.BCE_LO), BCE_HI = FloatVector.broadcast(S, ScalarElementwise.BCE_HI);

    public VectorElementwise() {}

    @Override public String name() { return "vector(" + L + " x float)"; }

    private static FloatVector load(float[] a, int off) { return FloatVector.fromArray(S, a, off); }

    /**
     * Runs shorter than this go to the scalar twin: a few vector iterations gain little, and a
     * kernel called on a short run rarely gets hot enough for C2, so it would stay in C1, where
     * the Vector API runs its allocating fallback (measured: 576 bytes per call of a 32-element
     * subtract after 5,000 training steps).
     */
    static final int SMALL = 4 * L;

    /** Per-thread L-wide copies of stride-0 operands (see binaryRun). */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][L]);

    // ---------------------------------------------------------------- elementwise

    // One loop per function, each in a method of its own returning the index it reached (bound), as binaryRun: a switch
    // inside the loop (or a helper returning the vector from a switch) defeats C2's vector-box elimination and runs ~20x
    // slower, and one method holding all the loops outgrew C2's inlining budget in some JIT states and boxed its vectors
    // (FusedAndAllocationTest saw 3,840 bytes per call of every function in 1 of 8 module runs).
    @Override public void unary(UnaryFn fn, float[] x, int xOff, float[] y, int yOff, int n) {
        if (n < SMALL) { TWIN.unary(fn, x, xOff, y, yOff, n); return; }
        int bound = S.loopBound(n);
        // a switch expression, so a new UnaryFn does not compile until it has a vector loop here
        int i = switch (fn) {
            case NEG -> negRun(x, xOff, y, yOff, bound);
            case EXP -> expRun(x, xOff, y, yOff, bound);
            case LOG -> logRun(x, xOff, y, yOff, bound);
            case SQRT -> sqrtRun(x, xOff, y, yOff, bound);
            case RSQRT -> rsqrtRun(x, xOff, y, yOff, bound);
            case ABS -> absRun(x, xOff, y, yOff, bound);
            case SIGN -> signRun(x, xOff, y, yOff, bound);
            case RELU -> reluRun(x, xOff, y, yOff, bound);
            case SIGMOID -> sigmoidRun(x, xOff, y, yOff, bound);
            case TANH -> tanhRun(x, xOff, y, yOff, bound);
            case ROUND_BF16 -> keepMantissaRun(x, xOff, y, yOff, bound, Rounding.BF16_BITS);
            case ROUND_TF32 -> keepMantissaRun(x, xOff, y, yOff, bound, Rounding.TF32_BITS);
            case ROUND_FP16 -> fp16Run(x, xOff, y, yOff, bound);
        };
        if (i < n) TWIN.unary(fn, x, xOff + i, y, yOff + i, n - i);
    }

    private static int negRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(x, xOff + i).neg().intoArray(y, yOff + i);
        return i;
    }
    private static int expRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(x, xOff + i).lanewise(VectorOperators.EXP).intoArray(y, yOff + i);
        return i;
    }
    private static int logRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(x, xOff + i).lanewise(VectorOperators.LOG).intoArray(y, yOff + i);
        return i;
    }
    private static int sqrtRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(x, xOff + i).sqrt().intoArray(y, yOff + i);
        return i;
    }
    private static int rsqrtRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) ONE.div(load(x, xOff + i).sqrt()).intoArray(y, yOff + i);
        return i;
    }
    private static int absRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(x, xOff + i).abs().intoArray(y, yOff + i);
        return i;
    }
    // 0, -0 and NaN keep their value, as Math.signum
    private static int signRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v = load(x, xOff + i);
            v.blend(ONE, v.compare(VectorOperators.GT, 0f)).blend(MINUS_ONE, v.compare(VectorOperators.LT, 0f)).intoArray(y, yOff + i);
        }
        return i;
    }
    // NaN gives 0, as the twin's x > 0 ? x : 0 (a max would propagate it)
    private static int reluRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v = load(x, xOff + i);
            ZERO.blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(y, yOff + i);
        }
        return i;
    }
    private static int sigmoidRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v = load(x, xOff + i);
            FloatVector e = v.abs().neg().lanewise(VectorOperators.EXP);
            FloatVector r = ONE.div(ONE.add(e));
            r.blend(e.mul(r), v.compare(VectorOperators.LT, 0f)).intoArray(y, yOff + i);
        }
        return i;
    }
    private static int tanhRun(float[] x, int xOff, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(x, xOff + i).lanewise(VectorOperators.TANH).intoArray(y, yOff + i);
        return i;
    }

    /** {@link Rounding#keepMantissa} lane by lane: the same integer steps on the f32 bit patterns. Returns {@code bound}. */
    private static int keepMantissaRun(float[] x, int xOff, float[] y, int yOff, int bound, int bits) {
        for (int i = 0; i < bound; i += L) keepMantissa(load(x, xOff + i), bits).intoArray(y, yOff + i);
        return bound;
    }

    /** {@link Rounding#fp16} lane by lane: subnormal step below 2^-14 (sign copied back), overflow to infinity above 65504. Returns {@code bound}. */
    private static int fp16Run(float[] x, int xOff, float[] y, int yOff, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector v = load(x, xOff + i);
            IntVector sign = v.reinterpretAsInts().and(0x80000000);
            FloatVector sub = v.add(Rounding.FP16_SUBNORMAL_SHIFT).sub(Rounding.FP16_SUBNORMAL_SHIFT).abs().reinterpretAsInts().or(sign).reinterpretAsFloats();
            FloatVector r = keepMantissa(v, Rounding.FP16_BITS);
            FloatVector inf = INF.reinterpretAsInts().or(sign).reinterpretAsFloats();
            r.blend(inf, r.abs().compare(VectorOperators.GT, Rounding.FP16_MAX)).blend(sub, v.abs().compare(VectorOperators.LT, Rounding.FP16_MIN_NORMAL)).intoArray(y, yOff + i);
        }
        return bound;
    }

    private static FloatVector keepMantissa(FloatVector v, int bits) {
        int drop = 23 - bits;
        IntVector b = v.reinterpretAsInts();
        IntVector r = b.add((1 << (drop - 1)) - 1).add(b.lanewise(VectorOperators.LSHR, drop).and(1)).and(-(1 << drop));
        return v.blend(r.reinterpretAsFloats(), v.test(VectorOperators.IS_NAN).not());
    }

    @Override public void binaryRun(BinaryFn fn, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride, float[] y, int yOff, int n) {
        if (n < SMALL || (aStride | bStride) > 1 || aStride < 0 || bStride < 0) { TWIN.binaryRun(fn, a, aOff, aStride, b, bOff, bStride, y, yOff, n); return; }
        if (aStride == 0 && bStride == 0) { fill(y, yOff, n, ScalarElementwise.apply(fn, a[aOff], b[bOff])); return; }
        int bound = S.loopBound(n);
        // a stride-0 operand is read from an L-wide copy at a fixed index: a plain load each
        // iteration, with no vector chosen by a condition (C2 boxes such phis in polluted profiles)
        float[][] scratch = SCRATCH.get();
        int as = 1, bs = 1;
        if (aStride == 0) { Arrays.fill(scratch[0], a[aOff]); a = scratch[0]; aOff = 0; as = 0; }
        if (bStride == 0) { Arrays.fill(scratch[1], b[bOff]); b = scratch[1]; bOff = 0; bs = 0; }
        // one method per function, each returning the index it reached (bound): each compiles on its own
        // budget (one method holding all the loops outgrew C2's inlining budget and boxed its vectors); a
        // switch expression, so a new BinaryFn does not compile until it has a vector loop here
        int done = switch (fn) {
            case ADD -> addRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case SUB -> subRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case MUL -> mulRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case DIV -> divRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case MAX -> maxRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case MIN -> minRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case POW -> powRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case GREATER -> greaterRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case GREATER_EQUAL -> greaterEqualRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case LESS -> lessRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case LESS_EQUAL -> lessEqualRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case EQUAL -> equalRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case NOT_EQUAL -> notEqualRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case BCE_WITH_LOGITS -> bceWithLogitsRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
            case BCE -> bceRun(a, aOff, as, b, bOff, bs, y, yOff, bound);
        };
        if (done < n) TWIN.binaryRun(fn, a, aOff + done * as, as, b, bOff + done * bs, bs, y, yOff + done, n - done);
    }

    private static int addRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(a, aOff + i * as).add(load(b, bOff + i * bs)).intoArray(y, yOff + i);
        return i;
    }
    private static int subRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(a, aOff + i * as).sub(load(b, bOff + i * bs)).intoArray(y, yOff + i);
        return i;
    }
    private static int mulRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(a, aOff + i * as).mul(load(b, bOff + i * bs)).intoArray(y, yOff + i);
        return i;
    }
    private static int divRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(a, aOff + i * as).div(load(b, bOff + i * bs)).intoArray(y, yOff + i);
        return i;
    }
    private static int maxRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(a, aOff + i * as).max(load(b, bOff + i * bs)).intoArray(y, yOff + i);
        return i;
    }
    private static int minRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(a, aOff + i * as).min(load(b, bOff + i * bs)).intoArray(y, yOff + i);
        return i;
    }
    private static int powRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) load(a, aOff + i * as).lanewise(VectorOperators.POW, load(b, bOff + i * bs)).intoArray(y, yOff + i);
        return i;
    }
    private static int greaterRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) ZERO.blend(ONE, load(a, aOff + i * as).compare(VectorOperators.GT, load(b, bOff + i * bs))).intoArray(y, yOff + i);
        return i;
    }
    private static int greaterEqualRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) ZERO.blend(ONE, load(a, aOff + i * as).compare(VectorOperators.GE, load(b, bOff + i * bs))).intoArray(y, yOff + i);
        return i;
    }
    private static int lessRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) ZERO.blend(ONE, load(a, aOff + i * as).compare(VectorOperators.LT, load(b, bOff + i * bs))).intoArray(y, yOff + i);
        return i;
    }
    private static int lessEqualRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) ZERO.blend(ONE, load(a, aOff + i * as).compare(VectorOperators.LE, load(b, bOff + i * bs))).intoArray(y, yOff + i);
        return i;
    }
    private static int equalRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) ZERO.blend(ONE, load(a, aOff + i * as).compare(VectorOperators.EQ, load(b, bOff + i * bs))).intoArray(y, yOff + i);
        return i;
    }
    private static int notEqualRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) ZERO.blend(ONE, load(a, aOff + i * as).compare(VectorOperators.NE, load(b, bOff + i * bs))).intoArray(y, yOff + i);
        return i;
    }
    // max(x, 0) - x z + log1p(e^-|x|)
    private static int bceWithLogitsRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector x = load(a, aOff + i * as), z = load(b, bOff + i * bs);
            x.max(ZERO).sub(x.mul(z)).add(x.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P)).intoArray(y, yOff + i);
        }
        return i;
    }
    // q = clip(p, eps, 1 - eps); -(z ln q + (1 - z) ln(1 - q))
    private static int bceRun(float[] a, int aOff, int as, float[] b, int bOff, int bs, float[] y, int yOff, int bound) {
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector q = load(a, aOff + i * as).max(BCE_LO).min(BCE_HI), z = load(b, bOff + i * bs);
            z.mul(q.lanewise(VectorOperators.LOG)).add(ONE.sub(z).mul(ONE.sub(q).lanewise(VectorOperators.LOG))).neg().intoArray(y, yOff + i);
        }
        return i;
    }


    @Override public void whereRun(float[] c, int cOff, int cStride, float[] a, int aOff, int aStride, float[] b, int bOff, int bStride, float[] y, int yOff, int n) {
        if (n < SMALL || cStride != 1 || (aStride | bStride) > 1 || aStride < 0 || bStride < 0) {
            TWIN.whereRun(c, cOff, cStride, a, aOff, aStride, b, bOff, bStride, y, yOff, n);
            return;
        }
        // a stride-0 operand is read from an L-wide copy at a fixed index (see binaryRun)
        int i = 0, bound = S.loopBound(n);
        float[][] scratch = SCRATCH.get();
        int as = 1, bs = 1;
        if (aStride == 0) { Arrays.fill(scratch[0], a[aOff]); a = scratch[0]; aOff = 0; as = 0; }
        if (bStride == 0) { Arrays.fill(scratch[1], b[bOff]); b = scratch[1]; bOff = 0; bs = 0; }
        for (; i < bound; i += L) {
            load(b, bOff + i * bs).blend(load(a, aOff + i * as), load(c, cOff + i).compare(VectorOperators.NE, 0f)).intoArray(y, yOff + i);
        }
        if (i < n) TWIN.whereRun(c, cOff + i, cStride, a, aOff + i * as, as, b, bOff + i * bs, bs, y, yOff + i, n - i);
    }

    @Override public void copyRun(float[] x, int xOff, int xStride, float[] y, int yOff, int yStride, int n) {
        if (xStride == 1 && yStride == 1) System.arraycopy(x, xOff, y, yOff, n);
        else if (xStride == 0 && yStride == 1) Arrays.fill(y, yOff, yOff + n, x[xOff]);
        else TWIN.copyRun(x, xOff, xStride, y, yOff, yStride, n);
    }

    @Override public void fill(float[] y, int off, int n, float v) { Arrays.fill(y, off, off + n, v); }

    // ---------------------------------------------------------------- reductions

    @Override public void reduce(ReduceFn fn, ReducePlan p, float[] x, int xOff, float[] y, int yOff) {
        boolean max = fn == ReduceFn.MAX;
        if (!p.isSimple()) {
            TWIN.reduceScatter(max, p, x, xOff, y, yOff);
        } else {
            int outer = p.outer(), red = p.reduced(), inner = p.inner();
            for (int o = 0; o < outer; o++) {
                int xo = xOff + o * red * inner, yo = yOff + o * inner;
                if (inner == 1) {
                    y[yo] = max ? maxOf(x, xo, red) : sumOf(x, xo, red);
                } else if (inner < L) {
                    System.arraycopy(x, xo, y, yo, inner);
                    for (int r = 1; r < red; r++) accumulate(max, x, xo + r * inner, y, yo, inner);
                } else {
                    reduceRows(max, x, xo, red, inner, y, yo);
                }
            }
        }
        if (fn == ReduceFn.MEAN) scale(y, yOff, p.outSize(), (float) (1.0 / p.count()));
    }

    /**
     * y[c] = x[0, c] ⊕ x[1, c] ⊕ ... over x[rows, cols], rows in order (the twin's order, so the sums agree exactly).
     * Column blocks of 4·L outer, rows inner: four accumulators stay in registers over all rows, where
     * accumulating row by row into y loads and stores y once per row (a batch-norm statistic or a bias
     * gradient over [512, 256] is 511 such rows).
     */
    private static void reduceRows(boolean max, float[] x, int xOff, int rows, int cols, float[] y, int yOff) {
        int c = 0;
        for (int bound4 = cols / (4 * L) * (4 * L); c < bound4; c += 4 * L) {
            if (max) maxRows4(x, xOff + c, rows, cols, y, yOff + c); else sumRows4(x, xOff + c, rows, cols, y, yOff + c);
        }
        for (int bound = S.loopBound(cols); c < bound; c += L) {
            if (max) maxRows1(x, xOff + c, rows, cols, y, yOff + c); else sumRows1(x, xOff + c, rows, cols, y, yOff + c);
        }
        for (; c < cols; c++) {
            float a = x[xOff + c];
            for (int r = 1, o = xOff + cols + c; r < rows; r++, o += cols) a = max ? Math.max(a, x[o]) : a + x[o];
            y[yOff + c] = a;
        }
    }

    private static void sumRows4(float[] x, int xOff, int rows, int cols, float[] y, int yOff) {
        FloatVector a0 = load(x, xOff), a1 = load(x, xOff + L), a2 = load(x, xOff + 2 * L), a3 = load(x, xOff + 3 * L);
        for (int r = 1, o = xOff + cols; r < rows; r++, o += cols) {
            a0 = a0.add(load(x, o)); a1 = a1.add(load(x, o + L)); a2 = a2.add(load(x, o + 2 * L)); a3 = a3.add(load(x, o + 3 * L));
        }
        a0.intoArray(y, yOff); a1.intoArray(y, yOff + L); a2.intoArray(y, yOff + 2 * L); a3.intoArray(y, yOff + 3 * L);
    }

    private static void maxRows4(float[] x, int xOff, int rows, int cols, float[] y, int yOff) {
        FloatVector a0 = load(x, xOff), a1 = load(x, xOff + L), a2 = load(x, xOff + 2 * L), a3 = load(x, xOff + 3 * L);
        for (int r = 1, o = xOff + cols; r < rows; r++, o += cols) {
            a0 = a0.max(load(x, o)); a1 = a1.max(load(x, o + L)); a2 = a2.max(load(x, o + 2 * L)); a3 = a3.max(load(x, o + 3 * L));
        }
        a0.intoArray(y, yOff); a1.intoArray(y, yOff + L); a2.intoArray(y, yOff + 2 * L); a3.intoArray(y, yOff + 3 * L);
    }

    private static void sumRows1(float[] x, int xOff, int rows, int cols, float[] y, int yOff) {
        FloatVector a = load(x, xOff);
        for (int r = 1, o = xOff + cols; r < rows; r++, o += cols) a = a.add(load(x, o));
        a.intoArray(y, yOff);
    }

    private static void maxRows1(float[] x, int xOff, int rows, int cols, float[] y, int yOff) {
        FloatVector a = load(x, xOff);
        for (int r = 1, o = xOff + cols; r < rows; r++, o += cols) a = a.max(load(x, o));
        a.intoArray(y, yOff);
    }

    /** Σ x[off, off + n): four accumulators of L lanes hide the add latency. */
    static float sumOf(float[] x, int off, int n) {
        if (n < SMALL) return ScalarElementwise.sumOf(x, off, n);
        // accumulators start as fresh vectors, not the static constants: C2 removes the boxes of a loop
        // phi only when every input is a fresh vector, and boxed every iteration otherwise
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        int i = 0, bound4 = n / (4 * L) * (4 * L);
        for (; i < bound4; i += 4 * L) {
            a0 = a0.add(load(x, off + i));
            a1 = a1.add(load(x, off + i + L));
            a2 = a2.add(load(x, off + i + 2 * L));
            a3 = a3.add(load(x, off + i + 3 * L));
        }
        for (int bound = S.loopBound(n); i < bound; i += L) a0 = a0.add(load(x, off + i));
        float s = LaneSum.of(a0.add(a1).add(a2.add(a3)));
        return i < n ? s + ScalarElementwise.sumOf(x, off + i, n - i) : s;
    }

    static float maxOf(float[] x, int off, int n) {
        if (n < SMALL) return ScalarElementwise.maxOf(x, off, n);
        float ninf = Float.NEGATIVE_INFINITY;
        FloatVector a0 = FloatVector.broadcast(S, ninf), a1 = FloatVector.broadcast(S, ninf), a2 = FloatVector.broadcast(S, ninf), a3 = FloatVector.broadcast(S, ninf);
        int i = 0, bound4 = n / (4 * L) * (4 * L);
        for (; i < bound4; i += 4 * L) {
            a0 = a0.max(load(x, off + i));
            a1 = a1.max(load(x, off + i + L));
            a2 = a2.max(load(x, off + i + 2 * L));
            a3 = a3.max(load(x, off + i + 3 * L));
        }
        for (int bound = S.loopBound(n); i < bound; i += L) a0 = a0.max(load(x, off + i));
        // max is order-independent (signed zeros included), so C2's reduction order does not matter here
        float m = a0.max(a1).max(a2.max(a3)).reduceLanes(VectorOperators.MAX);
        return i < n ? Math.max(m, ScalarElementwise.maxOf(x, off + i, n - i)) : m;
    }

    private void accumulate(boolean max, float[] x, int xOff, float[] y, int yOff, int n) {
        if (n < SMALL) { TWIN.accumulate(max, x, xOff, y, yOff, n); return; }
        int i = 0, bound = S.loopBound(n);
        if (max) for (; i < bound; i += L) load(y, yOff + i).max(load(x, xOff + i)).intoArray(y, yOff + i);
        else for (; i < bound; i += L) load(y, yOff + i).add(load(x, xOff + i)).intoArray(y, yOff + i);
        if (i < n) TWIN.accumulate(max, x, xOff + i, y, yOff + i, n - i);
    }

    private void scale(float[] y, int off, int n, float s) {
        if (n < SMALL) { TWIN.scale(y, off, n, s); return; }
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) load(y, off + i).mul(s).intoArray(y, off + i);
        if (i < n) TWIN.scale(y, off + i, n - i, s);
    }

    // ---------------------------------------------------------------- row kernels

    @Override public void softmax(boolean log, float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        if (cols < L) { TWIN.softmax(log, x, xOff, y, yOff, rows, cols); return; }
        int bound = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * cols, yo = yOff + r * cols;
            float m = maxOf(x, xo, cols);
            FloatVector vm = FloatVector.broadcast(S, m), s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
            int c = 0;
            for (; c + L < bound; c += 2 * L) {
                FloatVector e0 = load(x, xo + c).sub(vm).lanewise(VectorOperators.EXP);
                FloatVector e1 = load(x, xo + c + L).sub(vm).lanewise(VectorOperators.EXP);
                if (!log) { e0.intoArray(y, yo + c); e1.intoArray(y, yo + c + L); }
                s0 = s0.add(e0);
                s1 = s1.add(e1);
            }
            for (; c < bound; c += L) {
                FloatVector e = load(x, xo + c).sub(vm).lanewise(VectorOperators.EXP);
                if (!log) e.intoArray(y, yo + c);
                s0 = s0.add(e);
            }
            float s = LaneSum.of(s0.add(s1));
            for (; c < cols; c++) {
                float e = (float) Math.exp(x[xo + c] - m);
                if (!log) y[yo + c] = e;
                s += e;
            }
            if (log) {
                float shift = m + (float) Math.log(s);
                FloatVector vs = FloatVector.broadcast(S, shift);
                for (c = 0; c < bound; c += L) load(x, xo + c).sub(vs).intoArray(y, yo + c);
                for (; c < cols; c++) y[yo + c] = x[xo + c] - shift;
            } else {
                scale(y, yo, cols, 1f / s);
            }
        }
    }

    @Override public void softmaxCrossEntropy(float[] logits, int lOff, float[] labels, int labOff, float[] y, int yOff, int rows, int cols) {
        if (cols < L) { TWIN.softmaxCrossEntropy(logits, lOff, labels, labOff, y, yOff, rows, cols); return; }
        int bound = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int zo = lOff + r * cols, lo = labOff + r * cols;
            float m = maxOf(logits, zo, cols);
            FloatVector vm = FloatVector.broadcast(S, m), s = FloatVector.zero(S), sl = FloatVector.zero(S), slz = FloatVector.zero(S);
            int c = 0;
            for (; c < bound; c += L) {
                FloatVector z = load(logits, zo + c).sub(vm), l = load(labels, lo + c);
                s = s.add(z.lanewise(VectorOperators.EXP));
                sl = sl.add(l);
                slz = slz.add(l.mul(z));
            }
            float ss = LaneSum.of(s), sls = LaneSum.of(sl), slzs = LaneSum.of(slz);
            for (; c < cols; c++) {
                float z = logits[zo + c] - m, l = labels[lo + c];
                ss += (float) Math.exp(z);
                sls += l;
                slzs += l * z;
            }
            y[yOff + r] = (float) Math.log(ss) * sls - slzs;
        }
    }

    @Override public void oneHot(float[] idx, int iOff, float[] y, int yOff, int n, int depth) {
        ScalarElementwise.checkOneHot(idx, iOff, n, depth);
        Arrays.fill(y, yOff, yOff + n * depth, 0f);
        for (int i = 0; i < n; i++) y[yOff + i * depth + (int) idx[iOff + i]] = 1f;
    }

    @Override public void dropout(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long seed, long step) {
        VectorDropout.apply(x, xOff, y, yOff, first, n, rate, seed, step);
    }

    @Override public void dropout(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long seed, long step, long[] bits) {
        VectorDropout.apply(x, xOff, y, yOff, first, n, rate, seed, step, bits);
    }

    @Override public void dropoutReplay(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long[] bits) {
        VectorDropout.replay(x, xOff, y, yOff, first, n, rate, bits);
    }

    /** Channel blocks of L outer, rows inner: the block's mean, scale and shift stay in registers. */
    @Override public void batchNorm(float[] x, int xOff, float[] mean, int mOff, float[] var, int vOff, float[] gamma, int gOff, float[] beta, int bOff,
                                    double eps, float[] y, int yOff, int rows, int channels) {
        if (channels < L) { TWIN.batchNorm(x, xOff, mean, mOff, var, vOff, gamma, gOff, beta, bOff, eps, y, yOff, rows, channels); return; }
        float e = (float) eps;
        int bound = S.loopBound(channels);
        for (int c = 0; c < bound; c += L) {
            FloatVector m = load(mean, mOff + c), b = load(beta, bOff + c);
            FloatVector s = load(gamma, gOff + c).div(load(var, vOff + c).add(e).sqrt());
            for (int r = 0, o = c; r < rows; r++, o += channels) load(x, xOff + o).sub(m).mul(s).add(b).intoArray(y, yOff + o);
        }
        if (bound < channels) {
            for (int r = 0; r < rows; r++) {
                int o = r * channels;
                for (int c = bound; c < channels; c++) {
                    float s = gamma[gOff + c] / (float) Math.sqrt(var[vOff + c] + e);
                    y[yOff + o + c] = (x[xOff + o + c] - mean[mOff + c]) * s + beta[bOff + c];
                }
            }
        }
    }

    @Override public void sgdUpdate(float[] p, int pOff, float[] g, int gOff, float[] vel, int vOff, int n, float lr, double momentum, boolean nesterov, double weightDecay) {
        if (n < SMALL) { TWIN.sgdUpdate(p, pOff, g, gOff, vel, vOff, n, lr, momentum, nesterov, weightDecay); return; }
        float mu = (float) momentum, wd = (float) weightDecay;
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector pi = load(p, pOff + i);
            FloatVector gi = load(g, gOff + i).add(pi.mul(wd));
            FloatVector d = gi;
            if (momentum != 0) {
                FloatVector v = load(vel, vOff + i).mul(mu).add(gi);
                v.intoArray(vel, vOff + i);
                d = nesterov ? gi.add(v.mul(mu)) : v;
            }
            pi.sub(d.mul(lr)).intoArray(p, pOff + i);
        }
        if (i < n) TWIN.sgdUpdate(p, pOff + i, g, gOff + i, vel, vOff + i, n - i, lr, momentum, nesterov, weightDecay);
    }

    @Override public void adamUpdate(float[] p, int pOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff, int n, float lr, long step,
                                     double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        if (n < SMALL) { TWIN.adamUpdate(p, pOff, g, gOff, m, mOff, v, vOff, n, lr, step, beta1, beta2, eps, weightDecay, decoupled); return; }
        // AdamUpdate.step lane by lane, in the same order, so the two agree bit for bit
        float decay = AdamUpdate.decay(lr, weightDecay, decoupled), wd = AdamUpdate.l2(weightDecay, decoupled);
        float stepSize = AdamUpdate.stepSize(lr, step, beta1), sqrtBc2 = AdamUpdate.sqrtBc2(step, beta2);
        float b1 = (float) beta1, c1 = (float) (1 - beta1), b2 = (float) beta2, c2 = (float) (1 - beta2), e = (float) eps;
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector pi = load(p, pOff + i).mul(decay);
            FloatVector gi = load(g, gOff + i).add(pi.mul(wd));
            FloatVector mi = load(m, mOff + i).mul(b1).add(gi.mul(c1));
            FloatVector vi = load(v, vOff + i).mul(b2).add(gi.mul(c2).mul(gi));
            mi.intoArray(m, mOff + i);
            vi.intoArray(v, vOff + i);
            pi.sub(mi.mul(stepSize).div(vi.sqrt().div(sqrtBc2).add(e))).intoArray(p, pOff + i);
        }
        if (i < n) TWIN.adamUpdate(p, pOff + i, g, gOff + i, m, mOff + i, v, vOff + i, n - i, lr, step, beta1, beta2, eps, weightDecay, decoupled);
    }

    /** For tests: the lane count. */
    static int lanes() { return L; }
}
