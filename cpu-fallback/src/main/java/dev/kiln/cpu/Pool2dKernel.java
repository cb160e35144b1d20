package dev.kiln.cpu;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Pool2d;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Max and average pooling and their gradients, vectorised over channels (contiguous in NHWC). Twin and exact
 * semantics: {@link Pool2dScalar}; the vector lanes sum and compare in the same window order, so results agree
 * bit for bit. Forward runs one task per output row (n, oh); backward one task per image, since windows overlap
 * within an image. A prepared kernel holds the call in its fields: one caller at a time.
 *
 * <pre>{@code
 * Pool2dKernel kernel = Pool2dKernel.prepare(op, op.geometry(xShape), workers);
 * kernel.forward(x, 0, y, 0);
 * kernel.backward(x, 0, dy, 0, dx, 0);
 * }</pre>
 */
public final class Pool2dKernel implements WorkerPool.RangeTask, CpuKernels.Pool {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private final Pool2d op;
    private final ConvGeometry g;
    private final WorkerPool pool;
    private final boolean max;
    private final int cBound;   // channels handled by full vectors
    // max pooling whose windows never overlap (stride ≥ window extent): each dx element gets at most one window's
    // dy, so the vector path stores it instead of adding it to dx (no read of dx)
    private final boolean disjoint;
    // ... and the windows tile the whole image with channels in full vectors: every dx element is stored once, so
    // dx needs no zero fill first (M3's 2×2 stride-2 pools: the fill and the read were a third of the pass's traffic)
    private final boolean covering;
    // the call in flight
    private float[] x, y, dy, dx;
    private int xOff, yOff, dyOff, dxOff;
    private boolean backward;

    private Pool2dKernel(Pool2d op, ConvGeometry g, WorkerPool pool) {
        if (g.f() != g.c()) throw new IllegalArgumentException("pooling keeps the channel count, but the geometry maps " + g.c() + " to " + g.f());
        this.op = op;
        this.g = g;
        this.pool = pool;
        this.max = switch (op.kind()) {
            case MAX -> true;
            case AVG -> false;
        };
        this.cBound = SPECIES.loopBound(g.c());
        this.disjoint = max && g.strideH() >= (g.kh() - 1) * g.dilationH() + 1 && g.strideW() >= (g.kw() - 1) * g.dilationW() + 1;
        this.covering = disjoint && cBound == g.c() && g.dilationH() == 1 && g.dilationW() == 1 && g.padTop() == 0 && g.padLeft() == 0
                && g.strideH() == g.kh() && g.strideW() == g.kw() && g.oh() * g.kh() == g.h() && g.ow() * g.kw() == g.w();
    }

    public static Pool2dKernel prepare(Pool2d op, ConvGeometry g, WorkerPool pool) { return new Pool2dKernel(op, g, pool); }

    public Pool2d op() { return op; }

    /** y = pool(x); y [N,OH,OW,C] is overwritten. */
    public void forward(float[] x, int xOff, float[] y, int yOff) {
        this.x = x; this.xOff = xOff; this.y = y; this.yOff = yOff; this.backward = false;
        try {
            pool.parallelFor(g.n() * g.oh(), this);
        } finally {
            this.x = null; this.y = null;
        }
    }

    /** dx = ∂⟨pool(x), dy⟩/∂x; dx [N,H,W,C] is overwritten. */
    public void backward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff) {
        this.x = x; this.xOff = xOff; this.dy = dy; this.dyOff = dyOff; this.dx = dx; this.dxOff = dxOff; this.backward = true;
        try {
            pool.parallelFor(g.n(), this);
        } finally {
            this.x = null; this.dy = null; this.dx = null;
        }
    }

    @Override public void run(int from, int to) {
        for (int t = from; t < to; t++) {
            if (backward) backwardImage(t);
            else for (int ow = 0; ow < g.ow(); ow++) forwardPixel(t / g.oh(), t % g.oh(), ow);
        }
    }

    private void forwardPixel(int n, int oh, int ow) {
        int c = g.c(), out = yOff + ((n * g.oh() + oh) * g.ow() + ow) * c;
        int ih0 = oh * g.strideH() - g.padTop(), iw0 = ow * g.strideW() - g.padLeft();
        int count = windowCount(ih0, iw0);
        // max and avg in separate loops: a vector chosen by a conditional is a phi that C2 may box
        for (int ch = 0; ch < cBound; ch += SPECIES.length()) {
            if (max) {
                FloatVector acc = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
                for (int kh = 0; kh < g.kh(); kh++) {
                    int ih = ih0 + kh * g.dilationH();
                    if (ih < 0 || ih >= g.h()) continue;
                    for (int kw = 0; kw < g.kw(); kw++) {
                        int iw = iw0 + kw * g.dilationW();
                        if (iw < 0 || iw >= g.w()) continue;
                        acc = acc.lanewise(VectorOperators.MAX, FloatVector.fromArray(SPECIES, x, xOff + ((n * g.h() + ih) * g.w() + iw) * c + ch));
                    }
                }
                acc.intoArray(y, out + ch);
            } else if (count == 0) {
                Arrays.fill(y, out + ch, out + ch + SPECIES.length(), 0f);
            } else {
                FloatVector acc = FloatVector.zero(SPECIES);
                for (int kh = 0; kh < g.kh(); kh++) {
                    int ih = ih0 + kh * g.dilationH();
                    if (ih < 0 || ih >= g.h()) continue;
                    for (int kw = 0; kw < g.kw(); kw++) {
                        int iw = iw0 + kw * g.dilationW();
                        if (iw < 0 || iw >= g.w()) continue;
                        acc = acc.add(FloatVector.fromArray(SPECIES, x, xOff + ((n * g.h() + ih) * g.w() + iw) * c + ch));
                    }
                }
                acc.div((float) count).intoArray(y, out + ch);
            }
        }
        for (int ch = cBound; ch < c; ch++) {
            float acc = max ? Float.NEGATIVE_INFINITY : 0f;
            for (int kh = 0; kh < g.kh(); kh++) {
                int ih = ih0 + kh * g.dilationH();
                if (ih < 0 || ih >= g.h()) continue;
                for (int kw = 0; kw < g.kw(); kw++) {
                    int iw = iw0 + kw * g.dilationW();
                    if (iw < 0 || iw >= g.w()) continue;
                    float v = x[xOff + ((n * g.h() + ih) * g.w() + iw) * c + ch];
                    acc = max ? Math.max(acc, v) : acc + v;
                }
            }
            y[out + ch] = max ? acc : count == 0 ? 0f : acc / count;
        }
    }

    private void backwardImage(int n) {
        int c = g.c(), image = g.h() * g.w() * c;
        if (!covering) Arrays.fill(dx, dxOff + n * image, dxOff + (n + 1) * image, 0f);
        for (int oh = 0; oh < g.oh(); oh++) {
            for (int ow = 0; ow < g.ow(); ow++) {
                int ih0 = oh * g.strideH() - g.padTop(), iw0 = ow * g.strideW() - g.padLeft();
                int count = windowCount(ih0, iw0);
                if (count == 0) continue;
                int d = dyOff + ((n * g.oh() + oh) * g.ow() + ow) * c;
                // helpers take indices, not vectors: a call C2 declines to inline would box its vector arguments
                for (int ch = 0; ch < cBound; ch += SPECIES.length()) {
                    if (max) backwardMaxVector(n, ih0, iw0, ch, d + ch);
                    else backwardAvgVector(n, ih0, iw0, ch, d + ch, count);
                }
                for (int ch = cBound; ch < c; ch++) {
                    if (max) backwardMaxScalar(n, ih0, iw0, ch, dy[d + ch]);
                    else backwardAvgScalar(n, ih0, iw0, ch, dy[d + ch] / count);
                }
            }
        }
    }

    // the window's maximum, then dy to the first lane-wise match: `routed` marks lanes already served
    private void backwardMaxVector(int n, int ih0, int iw0, int ch, int dyAt) {
        int c = g.c();
        FloatVector dyv = FloatVector.fromArray(SPECIES, dy, dyAt);
        FloatVector m = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        for (int kh = 0; kh < g.kh(); kh++) {
            int ih = ih0 + kh * g.dilationH();
            if (ih < 0 || ih >= g.h()) continue;
            for (int kw = 0; kw < g.kw(); kw++) {
                int iw = iw0 + kw * g.dilationW();
                if (iw < 0 || iw >= g.w()) continue;
                m = m.lanewise(VectorOperators.MAX, FloatVector.fromArray(SPECIES, x, xOff + ((n * g.h() + ih) * g.w() + iw) * c + ch));
            }
        }
        // pending: the dy lanes not yet routed; it drops to 0 in a lane at that lane's first maximum, so the later
        // additions add exactly 0 there (a vector, not a mask, carried through the loop: C2 keeps it in a register)
        FloatVector pending = dyv, zero = FloatVector.zero(SPECIES);
        for (int kh = 0; kh < g.kh(); kh++) {
            int ih = ih0 + kh * g.dilationH();
            if (ih < 0 || ih >= g.h()) continue;
            for (int kw = 0; kw < g.kw(); kw++) {
                int iw = iw0 + kw * g.dilationW();
                if (iw < 0 || iw >= g.w()) continue;
                int at = ((n * g.h() + ih) * g.w() + iw) * c + ch;
                VectorMask<Float> hit = FloatVector.fromArray(SPECIES, x, xOff + at).compare(VectorOperators.EQ, m);
                // disjoint: dx here is 0 (filled) or not yet written (covering); + 0 keeps the twin's 0 + (-0) = +0
                FloatVector base = disjoint ? zero : FloatVector.fromArray(SPECIES, dx, dxOff + at);
                base.add(pending.blend(zero, hit.not())).intoArray(dx, dxOff + at);
                pending = pending.blend(zero, hit);
            }
        }
    }

    private void backwardAvgVector(int n, int ih0, int iw0, int ch, int dyAt, int count) {
        int c = g.c();
        FloatVector share = FloatVector.fromArray(SPECIES, dy, dyAt).div((float) count);
        for (int kh = 0; kh < g.kh(); kh++) {
            int ih = ih0 + kh * g.dilationH();
            if (ih < 0 || ih >= g.h()) continue;
            for (int kw = 0; kw < g.kw(); kw++) {
                int iw = iw0 + kw * g.dilationW();
                if (iw < 0 || iw >= g.w()) continue;
                int at = dxOff + ((n * g.h() + ih) * g.w() + iw) * c + ch;
                FloatVector.fromArray(SPECIES, dx, at).add(share).intoArray(dx, at);
            }
        }
    }

    private void backwardMaxScalar(int n, int ih0, int iw0, int ch, float d) {
        int c = g.c(), argmax = -1;
        float m = Float.NEGATIVE_INFINITY;
        for (int kh = 0; kh < g.kh(); kh++) {
            int ih = ih0 + kh * g.dilationH();
            if (ih < 0 || ih >= g.h()) continue;
            for (int kw = 0; kw < g.kw(); kw++) {
                int iw = iw0 + kw * g.dilationW();
                if (iw < 0 || iw >= g.w()) continue;
                int at = ((n * g.h() + ih) * g.w() + iw) * c + ch;
                float v = x[xOff + at];
                if (argmax < 0 || v > m) { m = v; argmax = at; }
            }
        }
        dx[dxOff + argmax] += d;
    }

    private void backwardAvgScalar(int n, int ih0, int iw0, int ch, float share) {
        int c = g.c();
        for (int kh = 0; kh < g.kh(); kh++) {
            int ih = ih0 + kh * g.dilationH();
            if (ih < 0 || ih >= g.h()) continue;
            for (int kw = 0; kw < g.kw(); kw++) {
                int iw = iw0 + kw * g.dilationW();
                if (iw < 0 || iw >= g.w()) continue;
                dx[dxOff + ((n * g.h() + ih) * g.w() + iw) * c + ch] += share;
            }
        }
    }

    private int windowCount(int ih0, int iw0) {
        int rows = 0, cols = 0;
        for (int kh = 0; kh < g.kh(); kh++) { int ih = ih0 + kh * g.dilationH(); if (ih >= 0 && ih < g.h()) rows++; }
        for (int kw = 0; kw < g.kw(); kw++) { int iw = iw0 + kw * g.dilationW(); if (iw >= 0 && iw < g.w()) cols++; }
        return rows * cols;
    }
}
