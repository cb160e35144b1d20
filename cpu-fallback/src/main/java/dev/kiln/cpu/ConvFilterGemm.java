package dev.kiln.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Implicit-GEMM filter gradient: dW_g[kk, j] = Σ_p col[p, kk] · dy[p, g·fg + j], with col read straight from a
 * {@link ConvSource}. Twin: {@link Conv2dScalar#backwardFilter}, through {@link Conv2dKernel}'s tests.
 *
 * Scheme: the register tile is {@link #TR} filter rows (kk) × NR output channels; the long sum over pixels p runs
 * inside the registers, TR broadcasts from one window plus two vector loads of dy's row per step. With 32 vector
 * registers (AVX-512) TR is 12 (24 accumulators): each pixel step then brings a new dy row and a new window line
 * for 24 FMAs instead of 12: the loop alone measured 25% faster per FMA than 6 rows once dy streams from L2, and
 * M3's filter gradients 13% faster (with the chunking below); else TR is MR (6).
 * dy is read in place when fg is a multiple of NR, else packed once per call into zero-padded NR-wide slivers.
 * Pixels are walked in rounds of {@link #ROUND} (one parallel call each, so x and dy come from L2, not memory)
 * and within a task in chunks of {@link #CHUNK}, so a block's tiles reuse the chunk's dy rows from L1 (6 rows)
 * or L2 (12 rows: one tile a block, long chunks to amortise the 24 accumulators' load and store).
 * Too few tiles to feed the threads (small K: a first layer with 1 or 3 input channels) splits the pixels into
 * a fixed number of segments with partial sums, added in segment order: the split depends on the shape only,
 * so results do not depend on the thread count. One caller at a time.
 */
final class ConvFilterGemm implements WorkerPool.RangeTask {
    private static final VectorSpecies<Float> SPECIES = Gemm.SPECIES;
    private static final int VL = Gemm.VL, MR = Gemm.MR, NR = Gemm.NR;
    // 24 accumulators + 2 dy vectors + 1 broadcast fit AVX-512's 32 registers; 16-register ISAs keep Gemm's 6 rows
    // (-Dkiln.cpu.microkernel=shared: the 6-row tile and its tuning, for the A/B of tile12)
    static final boolean WIDE = VL >= 16 && !MicroKernel.SHARED;
    static final int TR = WIDE ? 2 * MR : MR;
    // pixels per tile pass. 6 rows: 32 pixels of dy rows stay in L1 across a block of 4 row tiles (32 beat 64 and
    // 128 by 15-30%). 12 rows: one row tile per block, and long passes that stream dy from L2 (M3's filter
    // gradients at 1 thread, AVX-512: 512 pixels 32.4 ms, 128: 34.7, 32: 38.6, the 6-row kernel 37.2)
    private static final int CHUNK = WIDE ? 512 : 32;
    // pixels per round when the pixels are not split: the round's x windows and dy rows stay in L2 across all tasks
    private static final int ROUND = WIDE ? 4096 : 2048;
    private static final ThreadLocal<float[]> TILES = ThreadLocal.withInitial(() -> new float[2 * MR * NR]);

    private final ConvSource src;
    private final WorkerPool pool;
    private final ConvWorkspace ws;
    private final int groups, fg, ldw, k, pixels, rowTiles, slivers, segments, tilesPerBlock, blocks;
    private final boolean packDy;
    private final int packedAt, partialAt;
    // the call in flight
    private float[] a, dy, dw;
    private int aOff, dyOff, dwOff, phase, roundFrom, roundTo;

    ConvFilterGemm(ConvSource src, int groups, int fg, WorkerPool pool, ConvWorkspace ws) {
        this.src = src;
        this.pool = pool;
        this.ws = ws;
        this.groups = groups;
        this.fg = fg;
        this.ldw = groups * fg;
        this.k = src.k();
        this.pixels = src.pixels();
        this.rowTiles = (k + TR - 1) / TR;
        this.slivers = (fg + NR - 1) / NR;
        this.packDy = fg % NR != 0;
        // 96 filter rows in flight keep 2–8 threads busy; fewer come from a small K, so split the pixels instead
        long units = (long) groups * rowTiles * TR / MR;
        this.segments = (int) Math.max(1, Math.min((16 + units - 1) / units, pixels / (4L * CHUNK)));
        int perBlock = WIDE ? 1 : 4;
        while (perBlock > 1 && (long) groups * segments * ((rowTiles + perBlock - 1) / perBlock) < 4L * pool.threads()) perBlock /= 2;
        this.tilesPerBlock = perBlock;
        this.blocks = (rowTiles + perBlock - 1) / perBlock;
        this.packedAt = src.paddedSize();
        this.partialAt = packedAt + (packDy ? groups * slivers * pixels * NR : 0);
        ws.reserve((long) partialAt + (segments > 1 ? (long) segments * groups * k * fg : 0));
    }

    /** dw [kh, kw, cin, groups·fg] = Σ_p col ⊗ dy; dw is overwritten. dy: [pixels, groups·fg]. */
    void run(float[] x, int xOff, float[] dy, int dyOff, float[] dw, int dwOff) {
        float[] buf = ws.data();
        if (src.direct) { a = x; aOff = xOff; }
        else { src.pad(pool, x, xOff, buf, 0); a = buf; aOff = 0; }
        this.dy = dy; this.dyOff = dyOff; this.dw = dw; this.dwOff = dwOff;
        try {
            if (packDy) { phase = 0; parallel(pixels, (long) pixels * ldw); }
            phase = 1;
            if (segments > 1) {
                parallel(groups * segments * blocks, (long) pixels * k * ldw);
            } else {
                for (roundFrom = 0; roundFrom < pixels; roundFrom += ROUND) {
                    roundTo = Math.min(pixels, roundFrom + ROUND);
                    parallel(groups * blocks, (long) (roundTo - roundFrom) * k * ldw);
                }
            }
            if (segments > 1) { phase = 2; parallel(groups * k, (long) segments * groups * k * fg); }
        } finally {
            a = null; this.dy = null; this.dw = null;
        }
    }

    private void parallel(int tasks, long work) {
        if (work < 1 << 15) run(0, tasks);
        else pool.parallelFor(tasks, this);
    }

    @Override public void run(int from, int to) {
        switch (phase) {
            case 0 -> packRows(from, to);
            case 1 -> { for (int t = from; t < to; t++) gradientTask(t); }
            default -> sumSegments(from, to);
        }
    }

    // packed[((g·slivers + s)·pixels + p)·NR + jj] = dy[p, g·fg + s·NR + jj], 0 past fg
    private void packRows(int from, int to) {
        float[] dst = ws.data();
        for (int p = from; p < to; p++) {
            for (int g = 0; g < groups; g++) {
                for (int s = 0; s < slivers; s++) {
                    int j0 = s * NR, cols = Math.min(NR, fg - j0), at = packedAt + ((g * slivers + s) * pixels + p) * NR;
                    System.arraycopy(dy, dyOff + p * ldw + g * fg + j0, dst, at, cols);
                    for (int jj = cols; jj < NR; jj++) dst[at + jj] = 0f;
                }
            }
        }
    }

    private void gradientTask(int t) {
        float[] tile = TILES.get(), buf = ws.data();
        int block = t % blocks, rest = t / blocks, seg = rest % segments, g = rest / segments;
        int first = (int) ((long) pixels * seg / segments);
        int pFrom = segments > 1 ? first : roundFrom, pTo = segments > 1 ? (int) ((long) pixels * (seg + 1) / segments) : roundTo;
        int[] kd = src.kDelta;
        int go = aOff + g * src.cin;
        int rtEnd = Math.min(rowTiles, (block + 1) * tilesPerBlock);
        float[] out = segments > 1 ? buf : dw;
        for (int c0 = pFrom; c0 < pTo; c0 += CHUNK) {
            int c1 = Math.min(pTo, c0 + CHUNK);
            boolean add = c0 > first;
            for (int rt = block * tilesPerBlock; rt < rtEnd; rt++) {
                int k0 = rt * TR, rows = Math.min(TR, k - k0), last = k0 + rows - 1;
                for (int s = 0; s < slivers; s++) {
                    int j0 = s * NR, cols = Math.min(NR, fg - j0);
                    float[] b = packDy ? buf : dy;
                    int bo = packDy ? packedAt + (g * slivers + s) * pixels * NR : dyOff + g * fg + j0;
                    int ldb = packDy ? NR : ldw;
                    int oo = segments > 1 ? partialAt + ((seg * groups + g) * k + k0) * fg + j0 : dwOff + k0 * ldw + g * fg + j0;
                    int ldo = segments > 1 ? fg : ldw;
                    // rows: the filter rows' tap offsets; steps: the pixels' window starts; dy read from row c0
                    if (WIDE) {
                        MicroKernel.tile12(c0, c1, a, src.pixelBase, go + kd[k0], go + kd[Math.min(k0 + 1, last)], go + kd[Math.min(k0 + 2, last)],
                                           go + kd[Math.min(k0 + 3, last)], go + kd[Math.min(k0 + 4, last)], go + kd[Math.min(k0 + 5, last)],
                                           go + kd[Math.min(k0 + 6, last)], go + kd[Math.min(k0 + 7, last)], go + kd[Math.min(k0 + 8, last)],
                                           go + kd[Math.min(k0 + 9, last)], go + kd[Math.min(k0 + 10, last)], go + kd[last],
                                           b, bo + c0 * ldb, ldb, out, oo, ldo, rows, cols, add, tile);
                    } else {
                        MicroKernel.tile(c0, c1, a, src.pixelBase, go + kd[k0], go + kd[Math.min(k0 + 1, last)], go + kd[Math.min(k0 + 2, last)],
                                         go + kd[Math.min(k0 + 3, last)], go + kd[Math.min(k0 + 4, last)], go + kd[last],
                                         b, bo + c0 * ldb, ldb, out, oo, ldo, rows, cols, add, tile);
                    }
                }
            }
        }
    }

    // dw[g's row kk, j] = Σ_seg partial[seg][g][kk][j], in segment order
    private void sumSegments(int from, int to) {
        float[] buf = ws.data();
        for (int r = from; r < to; r++) {
            int g = r / k, kk = r - g * k, dst = dwOff + kk * ldw + g * fg;
            System.arraycopy(buf, partialAt + (g * k + kk) * fg, dw, dst, fg);
            for (int seg = 1; seg < segments; seg++) {
                int part = partialAt + ((seg * groups + g) * k + kk) * fg;
                for (int j = 0; j < fg; j++) dw[dst + j] += buf[part + j];
            }
        }
    }
}
