package dev.kiln.graph;

import dev.kiln.tensor.Shape;

/**
 * The reference meaning, in double, of the spatial ops over NHWC images — convolution (forward and both
 * gradients, one sum visited term by term) and pooling with its gradient — kept apart from
 * {@link Interpreter}'s switch, which calls them. Plain loops that read like the math; speed is the
 * backends' business.
 */
final class SpatialReference {
    private SpatialReference() {}

    /** Which of the three arrays a convolution term accumulates into. */
    enum Role { FORWARD, DATA, FILTER }

    /**
     * The one convolution sum, y[n,oy,ox,f] = Σ x[n, oy·sh - padTop + ky·dh, ox·sw - padLeft + kx·dw,
     * g·cpg + ci] · w[ky,kx,ci,f] with g = f / fpg, visited term by term; the role says whether a term
     * adds to y (forward), to x (backward data: x += y·w) or to w (backward filter: w += x·y).
     * x [N,H,W,C], w [KH,KW,C/groups,F], y [N,OH,OW,F].
     */
    static void convolve(ConvGeometry g, Role role, double[] x, double[] w, double[] y) {
        int cpg = g.inChannelsPerGroup(), fpg = g.outChannelsPerGroup();
        for (int n = 0; n < g.n(); n++) {
            for (int oy = 0; oy < g.oh(); oy++) {
                for (int ox = 0; ox < g.ow(); ox++) {
                    for (int f = 0; f < g.f(); f++) {
                        int yi = ((n * g.oh() + oy) * g.ow() + ox) * g.f() + f;
                        int group = f / fpg;
                        for (int ky = 0; ky < g.kh(); ky++) {
                            int iy = oy * g.strideH() - g.padTop() + ky * g.dilationH();
                            if (iy < 0 || iy >= g.h()) continue; // zero padding
                            for (int kx = 0; kx < g.kw(); kx++) {
                                int ix = ox * g.strideW() - g.padLeft() + kx * g.dilationW();
                                if (ix < 0 || ix >= g.w()) continue;
                                for (int ci = 0; ci < cpg; ci++) {
                                    int xi = ((n * g.h() + iy) * g.w() + ix) * g.c() + group * cpg + ci;
                                    int wi = ((ky * g.kw() + kx) * cpg + ci) * g.f() + f;
                                    switch (role) {
                                        case FORWARD -> y[yi] += x[xi] * w[wi];
                                        case DATA -> x[xi] += y[yi] * w[wi];
                                        case FILTER -> w[wi] += x[xi] * y[yi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ pooling

    /**
     * Pooling window of output (n, oy, ox, c): the in-bounds elements of x, in row-major window
     * order. Max pooling treats padding as -inf, average pooling leaves it out of the count.
     */
    static double[] pool(Pool2d p, double[] x, Shape xs) {
        ConvGeometry g = p.geometry(xs);
        double[] y = new double[g.outputShape().size()];
        for (int n = 0; n < g.n(); n++) {
            for (int oy = 0; oy < g.oh(); oy++) {
                for (int ox = 0; ox < g.ow(); ox++) {
                    for (int c = 0; c < g.c(); c++) {
                        double max = Double.NEGATIVE_INFINITY, sum = 0;
                        int count = 0;
                        for (int ky = 0; ky < g.kh(); ky++) {
                            int iy = oy * g.strideH() - g.padTop() + ky;
                            if (iy < 0 || iy >= g.h()) continue;
                            for (int kx = 0; kx < g.kw(); kx++) {
                                int ix = ox * g.strideW() - g.padLeft() + kx;
                                if (ix < 0 || ix >= g.w()) continue;
                                double v = x[((n * g.h() + iy) * g.w() + ix) * g.c() + c];
                                max = Math.max(max, v);
                                sum += v;
                                count++;
                            }
                        }
                        int yi = ((n * g.oh() + oy) * g.ow() + ox) * g.c() + c;
                        y[yi] = switch (p.kind()) {
                            case MAX -> max;
                            case AVG -> count == 0 ? 0 : sum / count;
                        };
                    }
                }
            }
        }
        return y;
    }

    /** dx of pooling: max routes dy to the first maximal element in row-major window order; avg spreads dy / count. */
    static double[] poolGrad(Pool2d p, double[] x, Shape xs, double[] dy) {
        ConvGeometry g = p.geometry(xs);
        double[] dx = new double[x.length];
        for (int n = 0; n < g.n(); n++) {
            for (int oy = 0; oy < g.oh(); oy++) {
                for (int ox = 0; ox < g.ow(); ox++) {
                    for (int c = 0; c < g.c(); c++) {
                        double max = Double.NEGATIVE_INFINITY;
                        int argmax = -1, count = 0;
                        for (int ky = 0; ky < g.kh(); ky++) {
                            int iy = oy * g.strideH() - g.padTop() + ky;
                            if (iy < 0 || iy >= g.h()) continue;
                            for (int kx = 0; kx < g.kw(); kx++) {
                                int ix = ox * g.strideW() - g.padLeft() + kx;
                                if (ix < 0 || ix >= g.w()) continue;
                                int xi = ((n * g.h() + iy) * g.w() + ix) * g.c() + c;
                                if (argmax < 0 || x[xi] > max) { max = x[xi]; argmax = xi; } // strict: the first max wins
                                count++;
                            }
                        }
                        if (count == 0) continue;
                        double d = dy[((n * g.oh() + oy) * g.ow() + ox) * g.c() + c];
                        switch (p.kind()) {
                            case MAX -> dx[argmax] += d;
                            case AVG -> {
                                for (int ky = 0; ky < g.kh(); ky++) {
                                    int iy = oy * g.strideH() - g.padTop() + ky;
                                    if (iy < 0 || iy >= g.h()) continue;
                                    for (int kx = 0; kx < g.kw(); kx++) {
                                        int ix = ox * g.strideW() - g.padLeft() + kx;
                                        if (ix < 0 || ix >= g.w()) continue;
                                        dx[((n * g.h() + iy) * g.w() + ix) * g.c() + c] += d / count;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx;
    }
}
