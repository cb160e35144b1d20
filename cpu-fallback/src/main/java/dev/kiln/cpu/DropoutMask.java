package dev.kiln.cpu;

import dev.kiln.graph.Philox;

/**
 * Inverted dropout with the mask of {@link Philox#keep}: element i draws word (i mod 4) of the
 * Philox4x32-10 block for counter (i / 4, step) under key seed. One block gives four elements, so
 * the aligned body computes each block once (10 rounds per 4 elements) instead of once per element.
 *
 * <p>keep ⇔ (w >>> 8)·2^-24 >= rate ⇔ (w >>> 8) >= ceil(rate·2^24): the product is exact in double
 * (a power-of-two scale), so the integer threshold is bit-identical to {@link Philox#keep}.
 * Shared by both kernel sets: the 10 dependent 32×32→64 multiplies per block dominate, and the
 * scaling that follows is a trivial elementwise multiply.
 */
final class DropoutMask {
    private static final long M0 = 0xD2511F53L, M1 = 0xCD9E8D57L;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private DropoutMask() {}

    static int threshold(double rate) { return (int) Math.ceil(rate * 0x1p24); }

    /** y = keep ? x · (1 / (1 - rate)) : 0 for tensor elements [first, first + n). */
    static void apply(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long seed, long step) {
        int t = threshold(rate);
        float scale = (float) (1.0 / (1.0 - rate));
        int c1 = (int) step, k0 = (int) seed, k1 = (int) (seed >>> 32);
        int i = 0;
        // head up to a block boundary, one word at a time
        for (; i < n && ((first + i) & 3) != 0; i++) {
            y[yOff + i] = keep(Philox.word((first + i) >>> 2, c1, k0, k1, (first + i) & 3), t) ? x[xOff + i] * scale : 0f;
        }
        for (; i + 4 <= n; i += 4) {
            int x0 = (first + i) >>> 2, x1 = c1, x2 = 0, x3 = 0, ka = k0, kb = k1;
            for (int r = 0; r < 10; r++) {
                long p0 = M0 * (x0 & 0xFFFFFFFFL);
                long p1 = M1 * (x2 & 0xFFFFFFFFL);
                int y0 = (int) (p1 >>> 32) ^ x1 ^ ka;
                int y1 = (int) p1;
                int y2 = (int) (p0 >>> 32) ^ x3 ^ kb;
                int y3 = (int) p0;
                x0 = y0; x1 = y1; x2 = y2; x3 = y3;
                ka += W0; kb += W1;
            }
            int o = xOff + i, q = yOff + i;
            y[q] = keep(x0, t) ? x[o] * scale : 0f;
            y[q + 1] = keep(x1, t) ? x[o + 1] * scale : 0f;
            y[q + 2] = keep(x2, t) ? x[o + 2] * scale : 0f;
            y[q + 3] = keep(x3, t) ? x[o + 3] * scale : 0f;
        }
        for (; i < n; i++) {
            y[yOff + i] = keep(Philox.word((first + i) >>> 2, c1, k0, k1, (first + i) & 3), t) ? x[xOff + i] * scale : 0f;
        }
    }

    private static boolean keep(int w, int threshold) { return (w >>> 8) >= threshold; }
}
