package dev.kiln.cpu;

import java.util.Arrays;

/**
 * How the implicit-GEMM convolutions read their input: as a zero-padded copy (or the input itself when no
 * padding is needed), addressed through two tables so the GEMM's A operand is never materialised.
 * Source [n, hs, ws, cs] (NHWC); windows kh×kw with strides and dilations; outputs oh×ow per image.
 *
 * Element (pixel p, column kk) of the virtual im2col matrix is {@code buf[pixelBase[p] + group·cin + kDelta[kk]]},
 * with p = (n·oh + y)·ow + x and kk = (i·kw + j)·cin + c (the HWIO filter's row order): pixelBase holds where
 * p's window starts in the buffer, kDelta where column kk sits inside any window. Padding is done once per
 * call by the copy, so the micro-kernels never test a bound.
 */
final class ConvSource implements WorkerPool.RangeTask {
    final int n, hs, ws, cs, cin, kh, kw, oh, ow;
    private final int padTop, padLeft;
    /** Rows and columns of the padded buffer per image (the source's own when {@link #direct}). */
    final int rows, cols;
    /** True when the windows never leave the source: it is read in place and {@link #pad} is not needed. */
    final boolean direct;
    final int[] pixelBase, kDelta;
    // the copy in flight
    private float[] x, dst;
    private int xOff, dstOff;

    ConvSource(int n, int hs, int ws, int cs, int cin, int kh, int kw, int strideH, int strideW, int dilationH, int dilationW,
               int padTop, int padLeft, int oh, int ow) {
        this.n = n; this.hs = hs; this.ws = ws; this.cs = cs; this.cin = cin; this.kh = kh; this.kw = kw;
        this.oh = oh; this.ow = ow; this.padTop = padTop; this.padLeft = padLeft;
        int hp = (oh - 1) * strideH + (kh - 1) * dilationH + 1, wp = (ow - 1) * strideW + (kw - 1) * dilationW + 1;
        this.direct = padTop == 0 && padLeft == 0 && hp <= hs && wp <= ws;
        this.rows = direct ? hs : hp;
        this.cols = direct ? ws : wp;
        this.pixelBase = new int[n * oh * ow];
        for (int b = 0, p = 0; b < n; b++) {
            for (int y = 0; y < oh; y++) {
                for (int xx = 0; xx < ow; xx++, p++) pixelBase[p] = ((b * rows + y * strideH) * cols + xx * strideW) * cs;
            }
        }
        this.kDelta = new int[kh * kw * cin];
        for (int i = 0, kk = 0; i < kh; i++) {
            for (int j = 0; j < kw; j++) {
                for (int c = 0; c < cin; c++, kk++) kDelta[kk] = (i * dilationH * cols + j * dilationW) * cs + c;
            }
        }
    }

    int pixels() { return pixelBase.length; }

    int k() { return kDelta.length; }

    /** Floats the padded copy needs (0 when direct). */
    int paddedSize() { return direct ? 0 : n * rows * cols * cs; }

    /** Writes the zero-padded copy of x into dst from dstOff; parallel over padded rows. */
    void pad(WorkerPool pool, float[] x, int xOff, float[] dst, int dstOff) {
        this.x = x; this.xOff = xOff; this.dst = dst; this.dstOff = dstOff;
        try {
            if ((long) n * rows * cols * cs < 1 << 15) run(0, n * rows);
            else pool.parallelFor(n * rows, this);
        } finally {
            this.x = null; this.dst = null;
        }
    }

    @Override public void run(int from, int to) {
        int rowFloats = cols * cs;
        // padded column q holds source column q - padLeft; [qa, qb) is where that exists
        int qa = Math.max(0, padLeft), qb = Math.min(cols, padLeft + ws);
        for (int t = from; t < to; t++) {
            int b = t / rows, r = t - b * rows, sr = r - padTop, d = dstOff + t * rowFloats;
            if (sr < 0 || sr >= hs || qb <= qa) {
                Arrays.fill(dst, d, d + rowFloats, 0f);
                continue;
            }
            Arrays.fill(dst, d, d + qa * cs, 0f);
            System.arraycopy(x, xOff + ((b * hs + sr) * ws + qa - padLeft) * cs, dst, d + qa * cs, (qb - qa) * cs);
            Arrays.fill(dst, d + qb * cs, d + rowFloats, 0f);
        }
    }
}
