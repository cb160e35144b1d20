package dev.kiln.graph;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
 * counter-based generator, so element i of step t gets the same bits on every backend and thread
 * without any state. Dropout draws word (i mod 4) of block (i / 4, t) under key seed.
 */
public final class Philox {
    private static final long M0 = 0xD2511F53L, M1 = 0xCD9E8D57L;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private Philox() {}

    /** Word {@code lane} (0..3) of the block for counter (c0, c1, 0, 0) and key (k0, k1). */
    public static int word(int c0, int c1, int k0, int k1, int lane) {
        int x0 = c0, x1 = c1, x2 = 0, x3 = 0;
        for (int r = 0; r < 10; r++) {
            long p0 = M0 * (x0 & 0xFFFFFFFFL);
            long p1 = M1 * (x2 & 0xFFFFFFFFL);
            int y0 = (int) (p1 >>> 32) ^ x1 ^ k0;
            int y1 = (int) p1;
            int y2 = (int) (p0 >>> 32) ^ x3 ^ k1;
            int y3 = (int) p0;
            x0 = y0; x1 = y1; x2 = y2; x3 = y3;
            k0 += W0; k1 += W1;
        }
        return switch (lane) { case 0 -> x0; case 1 -> x1; case 2 -> x2; default -> x3; };
    }

    /** A uniform float in [0, 1) for element {@code index} at {@code step} under {@code seed}. */
    public static float uniform(long seed, long step, int index) {
        int w = word(index >>> 2, (int) step, (int) seed, (int) (seed >>> 32), index & 3);
        return (w >>> 8) * 0x1.0p-24f;
    }

    /** Whether dropout keeps element {@code index} at {@code step}. */
    public static boolean keep(long seed, long step, int index, double rate) {
        return uniform(seed, step, index) >= rate;
    }
}
