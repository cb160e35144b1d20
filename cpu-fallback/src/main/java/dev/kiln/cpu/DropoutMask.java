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
        apply(x, xOff, y, yOff, first, n, rate, seed, step, null);
    }

    /**
     * As above, also recording keep(e) as bit e mod 64 of {@code bits[e / 64]} when {@code bits} is not null
     * (see {@link #replay}). Each word is read and rewritten: callers sharing {@code bits} across threads own
     * whole words (shares that start and end on multiples of 64, or at the tensor's end).
     */
    static void apply(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long seed, long step, long[] bits) {
        int t = threshold(rate);
        float scale = (float) (1.0 / (1.0 - rate));
        int c1 = (int) step, k0 = (int) seed, k1 = (int) (seed >>> 32);
        int i = 0;
        // head up to a block boundary, one word at a time
        for (; i < n && ((first + i) & 3) != 0; i++) {
            put(x[xOff + i], keep(Philox.word((first + i) >>> 2, c1, k0, k1, (first + i) & 3), t), scale, y, yOff + i, bits, first + i);
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
            int o = xOff + i, q = yOff + i, e = first + i;
            put(x[o], keep(x0, t), scale, y, q, bits, e);
            put(x[o + 1], keep(x1, t), scale, y, q + 1, bits, e + 1);
            put(x[o + 2], keep(x2, t), scale, y, q + 2, bits, e + 2);
            put(x[o + 3], keep(x3, t), scale, y, q + 3, bits, e + 3);
        }
        for (; i < n; i++) {
            put(x[xOff + i], keep(Philox.word((first + i) >>> 2, c1, k0, k1, (first + i) & 3), t), scale, y, yOff + i, bits, first + i);
        }
    }

    /**
     * The mask {@link #apply} recorded in {@code bits}, applied again: y = bit(first + i) ? x · (1 / (1 - rate)) : 0.
     * Dropout's gradient is dropout of g under the same mask, so the backward step reads 1 bit per
     * element instead of running ten Philox rounds per four.
     */
    static void replay(float[] x, int xOff, float[] y, int yOff, int first, int n, double rate, long[] bits) {
        float scale = (float) (1.0 / (1.0 - rate));
        for (int i = 0; i < n; i++) {
            int e = first + i;
            y[yOff + i] = (bits[e >>> 6] >>> e & 1) != 0 ? x[xOff + i] * scale : 0f;
        }
    }

    private static void put(float x, boolean keep, float scale, float[] y, int q, long[] bits, int e) {
        y[q] = keep ? x * scale : 0f;
        if (bits != null) bits[e >>> 6] = keep ? bits[e >>> 6] | 1L << e : bits[e >>> 6] & ~(1L << e);
    }

    private static boolean keep(int w, int threshold) { return (w >>> 8) >= threshold; }
}
