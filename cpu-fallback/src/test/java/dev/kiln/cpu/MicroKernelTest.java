package dev.kiln.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The specialised micro-kernels are the shared {@link MicroKernel#tile} with a fixed addressing, so they must give
 * the same bits: each accumulator sums the same products in the same order. This is what makes
 * {@code -Dkiln.cpu.microkernel=shared} (the A/B setting) a pure speed switch. Full tiles and edge tiles, stored
 * and added.
 */
class MicroKernelTest {
    private static final int MR = MicroKernel.MR, NR = MicroKernel.NR;

    private static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    private static int[] identity(int n) {
        int[] at = new int[n];
        for (int p = 0; p < n; p++) at[p] = p;
        return at;
    }

    @Test
    void packedGivesTheSharedTilesBits() {
        Random r = new Random(15);
        for (int kc : new int[] {1, 7, 64, 513}) for (int rows : new int[] {MR, 1, MR - 1}) for (int cols : new int[] {NR, 1, NR - 3}) for (boolean add : new boolean[] {false, true}) {
            int lda = kc + 5, ldc = NR + 9, ia = 3, ic = 2;
            float[] a = random(r, ia + MR * lda), b = random(r, kc * NR), c0 = random(r, ic + MR * ldc);
            float[] viaPacked = c0.clone(), viaTile = c0.clone();
            MicroKernel.packed(kc, a, ia, lda, b, 0, viaPacked, ic, ldc, rows, cols, add, new float[MR * NR]);
            MicroKernel.tile(0, kc, a, identity(kc), ia, ia + lda, ia + 2 * lda, ia + 3 * lda, ia + 4 * lda, ia + 5 * lda,
                    b, 0, NR, viaTile, ic, ldc, rows, cols, add, new float[MR * NR]);
            assertArrayEquals(viaTile, viaPacked, "kc=" + kc + " rows=" + rows + " cols=" + cols + " add=" + add);
        }
    }

    @Test
    void tile12GivesTwoSharedTilesBits() {
        Random r = new Random(16);
        for (int steps : new int[] {1, 9, 100}) for (int rows : new int[] {2 * MR, 7, 3}) for (int cols : new int[] {NR, 5}) for (boolean add : new boolean[] {false, true}) {
            // A's rows start at scattered offsets and step through a permutation, as in the filter gradient
            int[] at = new int[steps + 2];
            for (int p = 0; p < at.length; p++) at[p] = (p * 37) % 211;
            int[] o = new int[2 * MR];
            for (int i = 0; i < o.length; i++) o[i] = 211 + Math.min(i, rows - 1) * 13;   // rows past the tile repeat the last
            float[] a = random(r, 211 + 2 * MR * 13 + 211), b = random(r, (steps + 2) * (NR + 4));
            int ldb = NR + 4, ldc = NR + 1, p0 = 1, p1 = 1 + steps;
            float[] c0 = random(r, 2 * MR * ldc), via12 = c0.clone(), via6 = c0.clone();
            MicroKernel.tile12(p0, p1, a, at, o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11],
                    b, 0, ldb, via12, 0, ldc, rows, cols, add, new float[2 * MR * NR]);
            int top = Math.min(rows, MR), bottom = rows - top;
            MicroKernel.tile(p0, p1, a, at, o[0], o[1], o[2], o[3], o[4], o[5], b, 0, ldb, via6, 0, ldc, top, cols, add, new float[MR * NR]);
            if (bottom > 0) {
                MicroKernel.tile(p0, p1, a, at, o[6], o[7], o[8], o[9], o[10], o[11], b, 0, ldb, via6, MR * ldc, ldc, bottom, cols, add, new float[MR * NR]);
            }
            assertArrayEquals(via6, via12, "steps=" + steps + " rows=" + rows + " cols=" + cols + " add=" + add);
        }
    }
}
