package dev.kiln.cpu;

import dev.kiln.graph.Epilogue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Implicit-GEMM convolution: y[p, g·cout + j] = Σ_kk col[p, kk] · W_g[kk, j] with col read straight from a
 * {@link ConvSource} (no im2col matrix). Serves the forward convolution and, with the filter flipped and its two
 * channel axes swapped, the stride-1 backward-data convolution (a correlation of the padded dy with the flipped
 * filter). Twin: {@link Conv2dScalar}, through {@link Conv2dKernel}'s tests.
 *
 * Scheme: the filter is read in place when a group's channels fill whole NR-column slivers, else packed once
 * per call into zero-padded slivers [group][sliver][K][NR] (and always for backward data, which reads it flipped);
 * output tiles are MR pixels × NR channels, {@link MicroKernel#tile} (6 × 2 vectors,
 * 12 FMA accumulators), with the MR A values broadcast from MR window starts instead of a packed sliver.
 * A tail tile repeats its last pixel so the hot loop has no masks. Tasks: blocks of pixel tiles × slivers,
 * independent, so results do not depend on the thread count. One caller at a time.
 * The forward pass of a {@code ConvBias} op applies bias and activation to each tile's rows just after they are
 * stored, still in L1, so the activations are written once. Not to the tile's registers: with that code inside
 * {@link MicroKernel#tile}, C2 compiled its k loop 17% slower (M3's forward convolutions, 1 thread).
 */
final class ConvForwardGemm implements WorkerPool.RangeTask {
    private static final VectorSpecies<Float> SPECIES = Gemm.SPECIES;
    private static final int VL = Gemm.VL, MR = Gemm.MR, NR = Gemm.NR;
    private static final ThreadLocal<float[]> TILES = ThreadLocal.withInitial(() -> new float[MR * NR]);

    private final ConvSource src;
    private final WorkerPool pool;
    private final ConvWorkspace ws;
    private final int groups, cout, ldy, k, slivers, pixelTiles, tilesPerBlock, blocks;
    private final boolean flipped, inPlace;
    // the call in flight
    private float[] a, y, w, bias;
    private int aOff, yOff, wOff, ldw, biasOff;
    private Epilogue.Activation act = Epilogue.Activation.NONE;

    /**
     * @param cout    output channels per group; ldy = groups·cout is y's row length
     * @param flipped the filter given to {@link #run(float[], int, float[], int, int, float[], int)} is the forward
     *                filter [kh, kw, cout, groups·cin] to be read flipped and transposed (backward data)
     */
    ConvForwardGemm(ConvSource src, int groups, int cout, boolean flipped, WorkerPool pool, ConvWorkspace ws) {
        this.src = src;
        this.pool = pool;
        this.ws = ws;
        this.groups = groups;
        this.cout = cout;
        this.ldy = groups * cout;
        this.flipped = flipped;
        // whole slivers of an unflipped filter are read where they lie: no per-call packing (matters at batch 1)
        this.inPlace = !flipped && cout % NR == 0;
        this.k = src.k();
        this.slivers = (cout + NR - 1) / NR;
        this.pixelTiles = (src.pixels() + MR - 1) / MR;
        int perBlock = 8;
        while (perBlock > 1 && (long) groups * slivers * ((pixelTiles + perBlock - 1) / perBlock) < 4L * pool.threads()) perBlock /= 2;
        this.tilesPerBlock = perBlock;
        this.blocks = (pixelTiles + perBlock - 1) / perBlock;
        ws.reserve((long) src.paddedSize() + packedSize());
    }

    private int packedSize() { return inPlace ? 0 : groups * slivers * k * NR; }

    /**
     * y = conv(x, w); y [pixels, groups·cout] is overwritten. w: HWIO [kh, kw, cin, groups·cout] read from wOff with
     * row stride ldw, or, when flipped, the forward filter [kh, kw, cout, groups·cin].
     */
    void run(float[] x, int xOff, float[] w, int wOff, int ldw, float[] y, int yOff) {
        run(x, xOff, w, wOff, ldw, y, yOff, null, 0, Epilogue.Activation.NONE);
    }

    /** As above, then y = act(y + bias) with bias [groups·cout] (null: none), applied per tile. */
    void run(float[] x, int xOff, float[] w, int wOff, int ldw, float[] y, int yOff, float[] bias, int biasOff, Epilogue.Activation act) {
        float[] buf = ws.data();
        if (src.direct) { a = x; aOff = xOff; }
        else { src.pad(pool, x, xOff, buf, 0); a = buf; aOff = 0; }
        int packed = src.paddedSize();
        if (flipped) packFlipped(w, wOff, ldw, buf, packed);
        else if (!inPlace) pack(w, wOff, ldw, buf, packed);
        this.w = w; this.wOff = wOff; this.ldw = ldw;
        this.y = y;
        this.yOff = yOff;
        this.bias = bias;
        this.biasOff = biasOff;
        this.act = act;
        try {
            int tasks = groups * blocks * slivers;
            if ((long) src.pixels() * k * ldy < 1 << 15) run(0, tasks);
            else pool.parallelFor(tasks, this);
        } finally {
            a = null; this.y = null; this.w = null; this.bias = null;
        }
    }

    // dst[((g·slivers + s)·K + kk)·NR + jj] = W_g[kk, s·NR + jj], 0 past cout
    private void pack(float[] w, int wOff, int ldw, float[] dst, int at) {
        for (int g = 0; g < groups; g++) {
            for (int s = 0; s < slivers; s++) {
                int j0 = s * NR, cols = Math.min(NR, cout - j0);
                for (int kk = 0; kk < k; kk++, at += NR) {
                    System.arraycopy(w, wOff + kk * ldw + g * cout + j0, dst, at, cols);
                    for (int jj = cols; jj < NR; jj++) dst[at + jj] = 0f;
                }
            }
        }
    }

    // backward data: column j = input channel c of the forward filter, row kk = (i', j', f) reads
    // w[kh-1-i', kw-1-j', c, g·cin + f] (the forward filter's output channels are this GEMM's cin)
    private void packFlipped(float[] w, int wOff, int ldw, float[] dst, int at) {
        int cin = src.cin;
        for (int g = 0; g < groups; g++) {
            for (int s = 0; s < slivers; s++) {
                int j0 = s * NR, cols = Math.min(NR, cout - j0);
                for (int i = 0; i < src.kh; i++) {
                    for (int j = 0; j < src.kw; j++) {
                        int tap = (src.kh - 1 - i) * src.kw + (src.kw - 1 - j);
                        for (int f = 0; f < cin; f++, at += NR) {
                            int from = wOff + (tap * cout + j0) * ldw + g * cin + f;
                            for (int jj = 0; jj < cols; jj++) dst[at + jj] = w[from + jj * ldw];
                            for (int jj = cols; jj < NR; jj++) dst[at + jj] = 0f;
                        }
                    }
                }
            }
        }
    }

    @Override public void run(int from, int to) {
        float[] tile = TILES.get(), packed = ws.data();
        boolean epilogue = bias != null || act != Epilogue.Activation.NONE;
        int[] base = src.pixelBase, kd = src.kDelta;
        int pixels = base.length, packedAt = src.paddedSize();
        for (int t = from; t < to; t++) {
            int s = t % slivers, rest = t / slivers, block = rest % blocks, g = rest / blocks;
            int j0 = s * NR, cols = Math.min(NR, cout - j0), go = aOff + g * src.cin, bo = biasOff + g * cout + j0;
            float[] b = inPlace ? w : packed;
            int wo = inPlace ? wOff + g * cout + j0 : packedAt + (g * slivers + s) * k * NR, ldb = inPlace ? ldw : NR;
            int tEnd = Math.min(pixelTiles, (block + 1) * tilesPerBlock);
            for (int pt = block * tilesPerBlock; pt < tEnd; pt++) {
                int p0 = pt * MR, rows = Math.min(MR, pixels - p0), last = p0 + rows - 1;
                int at = yOff + p0 * ldy + g * cout + j0;
                // rows: the window starts of MR pixels; steps: the filter taps' offsets from a window start
                MicroKernel.tile(0, k, a, kd, go + base[p0], go + base[Math.min(p0 + 1, last)], go + base[Math.min(p0 + 2, last)],
                                 go + base[Math.min(p0 + 3, last)], go + base[Math.min(p0 + 4, last)], go + base[last],
                                 b, wo, ldb, y, at, ldy, rows, cols, false, tile);
                if (epilogue) for (int r = 0; r < rows; r++) Gemm.epilogue(y, at + r * ldy, cols, bias, bo, 1, act);
            }
        }
    }
}
