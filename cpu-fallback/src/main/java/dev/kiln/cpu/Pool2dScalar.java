package dev.kiln.cpu;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Pool2d;

import java.util.Arrays;

/**
 * The scalar twin of {@link Pool2dKernel}, over NHWC x [N,H,W,C] → y [N,OH,OW,C]. A window is the in-bounds part
 * of {ih = oh·sh − pt + kh, iw = ow·sw − pl + kw}. Max: the largest in-bounds value (padding is −inf), and its
 * gradient goes to the first in-bounds element, in row-major window order, that equals it. Avg: the mean of the
 * in-bounds values (padding excluded); a window with no in-bounds value gives 0.
 */
public final class Pool2dScalar {
    /** The scalar twin of a prepared {@link Pool2dKernel} (see {@link CpuKernels}). */
    record Prepared(Pool2d op, ConvGeometry g) implements CpuKernels.Pool {
        @Override public void forward(float[] x, int xOff, float[] y, int yOff) { Pool2dScalar.forward(op, g, x, xOff, y, yOff); }

        @Override public void backward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff) {
            Pool2dScalar.backward(op, g, x, xOff, dy, dyOff, dx, dxOff);
        }
    }

    private Pool2dScalar() {}

    public static void forward(Pool2d op, ConvGeometry g, float[] x, int xOff, float[] y, int yOff) {
        int c = g.c();
        for (int n = 0; n < g.n(); n++)
            for (int oh = 0; oh < g.oh(); oh++)
                for (int ow = 0; ow < g.ow(); ow++)
                    for (int ch = 0; ch < c; ch++) {
                        float max = Float.NEGATIVE_INFINITY, sum = 0f;
                        int count = 0;
                        for (int kh = 0; kh < g.kh(); kh++) {
                            int ih = oh * g.strideH() - g.padTop() + kh * g.dilationH();
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int kw = 0; kw < g.kw(); kw++) {
                                int iw = ow * g.strideW() - g.padLeft() + kw * g.dilationW();
                                if (iw < 0 || iw >= g.w()) continue;
                                float v = x[xOff + ((n * g.h() + ih) * g.w() + iw) * c + ch];
                                max = Math.max(max, v);
                                sum += v;
                                count++;
                            }
                        }
                        float out = switch (op.kind()) {
                            case MAX -> max;
                            case AVG -> count == 0 ? 0f : sum / count;
                        };
                        y[yOff + ((n * g.oh() + oh) * g.ow() + ow) * c + ch] = out;
                    }
    }

    /** dx (overwritten) of {@link #forward} given dy. */
    public static void backward(Pool2d op, ConvGeometry g, float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff) {
        int c = g.c();
        Arrays.fill(dx, dxOff, dxOff + g.n() * g.h() * g.w() * c, 0f);
        for (int n = 0; n < g.n(); n++)
            for (int oh = 0; oh < g.oh(); oh++)
                for (int ow = 0; ow < g.ow(); ow++)
                    for (int ch = 0; ch < c; ch++) {
                        float d = dy[dyOff + ((n * g.oh() + oh) * g.ow() + ow) * c + ch];
                        int count = 0, argmax = -1;
                        float max = Float.NEGATIVE_INFINITY;
                        for (int kh = 0; kh < g.kh(); kh++) {
                            int ih = oh * g.strideH() - g.padTop() + kh * g.dilationH();
                            if (ih < 0 || ih >= g.h()) continue;
                            for (int kw = 0; kw < g.kw(); kw++) {
                                int iw = ow * g.strideW() - g.padLeft() + kw * g.dilationW();
                                if (iw < 0 || iw >= g.w()) continue;
                                int at = dxOff + ((n * g.h() + ih) * g.w() + iw) * c + ch;
                                float v = x[xOff + at - dxOff];
                                if (argmax < 0 || v > max) { max = v; argmax = at; }  // strict: the first maximum wins
                                count++;
                            }
                        }
                        if (count == 0) continue;
                        switch (op.kind()) {
                            case MAX -> dx[argmax] += d;
                            case AVG -> {
                                float share = d / count;
                                for (int kh = 0; kh < g.kh(); kh++) {
                                    int ih = oh * g.strideH() - g.padTop() + kh * g.dilationH();
                                    if (ih < 0 || ih >= g.h()) continue;
                                    for (int kw = 0; kw < g.kw(); kw++) {
                                        int iw = ow * g.strideW() - g.padLeft() + kw * g.dilationW();
                                        if (iw < 0 || iw >= g.w()) continue;
                                        dx[dxOff + ((n * g.h() + ih) * g.w() + iw) * c + ch] += share;
                                    }
                                }
                            }
                        }
                    }
    }
}
