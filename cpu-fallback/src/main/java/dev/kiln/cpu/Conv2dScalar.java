package dev.kiln.cpu;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;

import java.util.Arrays;

/**
 * The scalar twin of {@link Conv2dKernel}: the three convolution sums written as their seven nested loops.
 * x [N,H,W,C] (NHWC), w [KH,KW,C/groups,F] (HWIO), y [N,OH,OW,F]; output channel f belongs to group
 * f / (F/groups) and sees input channels [group·C/groups, (group+1)·C/groups). Padding reads as zero.
 */
public final class Conv2dScalar {
    private Conv2dScalar() {}

    /** The scalar twin of a prepared {@link Conv2dKernel}: the methods below bound to one geometry (see {@link CpuKernels}). */
    record Prepared(ConvGeometry g) implements CpuKernels.Conv {
        @Override public void forward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] bias, int biasOff, Epilogue.Activation act) {
            Conv2dScalar.forward(g, x, xOff, w, wOff, y, yOff, bias, biasOff, act);
        }

        @Override public void backwardData(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff) {
            Conv2dScalar.backwardData(g, dy, dyOff, w, wOff, dx, dxOff);
        }

        @Override public void backwardFilter(float[] x, int xOff, float[] dy, int dyOff, float[] dw, int dwOff) {
            Conv2dScalar.backwardFilter(g, x, xOff, dy, dyOff, dw, dwOff);
        }
    }

    /** y[n,oh,ow,f] = Σ_{kh,kw,ci} x[n, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw, g·Cg + ci] · w[kh,kw,ci,f]. */
    /** y = act(conv(x, w) + bias), bias [F] added to every output pixel (the ConvBias op). */
    public static void forward(ConvGeometry g, float[] x, int xOff, float[] w, int wOff, float[] y, int yOff,
                               float[] bias, int biasOff, Epilogue.Activation act) {
        forward(g, x, xOff, w, wOff, y, yOff);
        if (bias == null && act == Epilogue.Activation.NONE) return; // no epilogue: keep the plain convolution's bits (-0 stays -0)
        for (int p = 0, pixels = g.n() * g.oh() * g.ow(); p < pixels; p++) GemmScalar.epilogue(y, yOff + p * g.f(), g.f(), bias, biasOff, act);
    }

    public static void forward(ConvGeometry g, float[] x, int xOff, float[] w, int wOff, float[] y, int yOff) {
        int cg = g.inChannelsPerGroup(), fg = g.outChannelsPerGroup();
        for (int n = 0; n < g.n(); n++)
            for (int oh = 0; oh < g.oh(); oh++)
                for (int ow = 0; ow < g.ow(); ow++)
                    for (int f = 0; f < g.f(); f++) {
                        int c0 = (f / fg) * cg;
                        float sum = 0f;
                        for (int kh = 0; kh < g.kh(); kh++) {
                            int ih = oh * g.strideH() - g.padTop() + kh * g.dilationH();
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int kw = 0; kw < g.kw(); kw++) {
                                int iw = ow * g.strideW() - g.padLeft() + kw * g.dilationW();
                                if (iw < 0 || iw >= g.w()) continue;
                                for (int ci = 0; ci < cg; ci++) {
                                    sum += x[xOff + ((n * g.h() + ih) * g.w() + iw) * g.c() + c0 + ci]
                                         * w[wOff + ((kh * g.kw() + kw) * cg + ci) * g.f() + f];
                                }
                            }
                        }
                        y[yOff + ((n * g.oh() + oh) * g.ow() + ow) * g.f() + f] = sum;
                    }
    }

    /** dx = the adjoint of forward in x: every dy[n,oh,ow,f]·w[kh,kw,ci,f] flows back to the x element it multiplied. */
    public static void backwardData(ConvGeometry g, float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff) {
        int cg = g.inChannelsPerGroup(), fg = g.outChannelsPerGroup();
        Arrays.fill(dx, dxOff, dxOff + g.n() * g.h() * g.w() * g.c(), 0f);
        for (int n = 0; n < g.n(); n++)
            for (int oh = 0; oh < g.oh(); oh++)
                for (int ow = 0; ow < g.ow(); ow++)
                    for (int f = 0; f < g.f(); f++) {
                        int c0 = (f / fg) * cg;
                        float d = dy[dyOff + ((n * g.oh() + oh) * g.ow() + ow) * g.f() + f];
                        for (int kh = 0; kh < g.kh(); kh++) {
                            int ih = oh * g.strideH() - g.padTop() + kh * g.dilationH();
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int kw = 0; kw < g.kw(); kw++) {
                                int iw = ow * g.strideW() - g.padLeft() + kw * g.dilationW();
                                if (iw < 0 || iw >= g.w()) continue;
                                for (int ci = 0; ci < cg; ci++) {
                                    dx[dxOff + ((n * g.h() + ih) * g.w() + iw) * g.c() + c0 + ci]
                                        += d * w[wOff + ((kh * g.kw() + kw) * cg + ci) * g.f() + f];
                                }
                            }
                        }
                    }
    }

    /** dw[kh,kw,ci,f] = Σ_{n,oh,ow} x[n, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw, g·Cg + ci] · dy[n,oh,ow,f]. */
    public static void backwardFilter(ConvGeometry g, float[] x, int xOff, float[] dy, int dyOff, float[] dw, int dwOff) {
        int cg = g.inChannelsPerGroup(), fg = g.outChannelsPerGroup();
        for (int kh = 0; kh < g.kh(); kh++)
            for (int kw = 0; kw < g.kw(); kw++)
                for (int ci = 0; ci < cg; ci++)
                    for (int f = 0; f < g.f(); f++) {
                        int c = (f / fg) * cg + ci;
                        float sum = 0f;
                        for (int n = 0; n < g.n(); n++)
                            for (int oh = 0; oh < g.oh(); oh++) {
                                int ih = oh * g.strideH() - g.padTop() + kh * g.dilationH();
                                if (ih < 0 || ih >= g.h()) continue;
                                for (int ow = 0; ow < g.ow(); ow++) {
                                    int iw = ow * g.strideW() - g.padLeft() + kw * g.dilationW();
                                    if (iw < 0 || iw >= g.w()) continue;
                                    sum += x[xOff + ((n * g.h() + ih) * g.w() + iw) * g.c() + c]
                                         * dy[dyOff + ((n * g.oh() + oh) * g.ow() + ow) * g.f() + f];
                                }
                            }
                        dw[dwOff + ((kh * g.kw() + kw) * cg + ci) * g.f() + f] = sum;
                    }
    }
}
