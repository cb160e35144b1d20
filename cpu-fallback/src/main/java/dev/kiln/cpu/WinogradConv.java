package dev.kiln.cpu;

import dev.kiln.graph.Epilogue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd F(2×2, 3×3) convolution (Lavin and Gray, 2015) for 3×3, stride-1, undilated, ungrouped convolutions:
 * each 2×2 output tile costs 16 multiplies per (input, output) channel pair instead of 36. Serves the forward pass,
 * with the filter flipped and its channel axes swapped the stride-1 backward-data pass, and the filter gradient.
 * Twin: {@link Conv2dScalar}, through {@link Conv2dKernel}'s tests and {@code WinogradConvTest}.
 *
 * y[n, oh, ow, co] = Σ_{i,j,ci} x[n, oh − padTop + i, ow − padLeft + j, ci] · g[i, j, ci, co], x read as zero
 * outside [0, inH) × [0, inW); cin and cout at least one vector ({@link Gemm#VL}): a channel tail is done as the
 * last whole vector again. Scheme, per call: U = G g Gᵀ packed once into [16][sliver][cin][NR]; then output
 * tiles in blocks sized so the block's V [16][tiles][cin] and M [16][tiles][cout] stay in L2: V = Bᵀ d B (vectors
 * along the contiguous channels), 16 GEMMs M_p = V_p · U_p on {@link MicroKernel#packed}, and
 * Y = Aᵀ M A written to y for the output pixels that exist (odd sizes: partial edge tiles), then bias and
 * activation on those pixels while in L1. Blocks are independent tasks, so results do not depend on thread count.
 * Accuracy: the transforms add and subtract up to 16 terms before and after the products, so fp32 error is a few
 * 1e-6 of Σ|terms| instead of direct convolution's ~1e-7. One caller at a time.
 * The filter gradient ({@link #forFilterGradient}, {@link #backwardFilter}) is the transpose: per block, V and
 * D = A dy Aᵀ, then dU_p += V_pᵀ · D_p into one of a fixed number of partial sums, and dw = Gᵀ (Σ dU) G.
 */
final class WinogradConv implements WorkerPool.RangeTask {
    private static final VectorSpecies<Float> SPECIES = Gemm.SPECIES;
    private static final int VL = Gemm.VL, MR = Gemm.MR, NR = Gemm.NR;
    // floats of V plus M per block: 2^17 floats = 512 KiB, half of a core's L2 (1 MiB), so the block survives its 16 GEMMs
    private static final int BLOCK_FLOATS = 1 << 17;
    private static final int MAX_TILES_PER_BLOCK = 512;
    // per-thread block buffers, grown at the first call of a larger geometry and kept
    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    private final int n, inH, inW, cin, outH, outW, cout, padTop, padLeft;
    private final boolean flipped;
    private final int tilesH, tilesW, tiles, tilesPerBlock, blocks, slivers, ldm;
    private final WorkerPool pool;
    private final ConvWorkspace ws;
    private final FilterTransform filterTransform = new FilterTransform();
    // the call in flight
    private float[] x, y, bias;
    private int xOff, yOff, biasOff;
    private Epilogue.Activation act = Epilogue.Activation.NONE;

    /**
     * @param flipped the filter given to {@link #run} is a forward filter [3, 3, cout, cin] to be read flipped and
     *                with its channel axes swapped (backward data: x is dy, cin the forward F, cout the forward C)
     */
    WinogradConv(int n, int inH, int inW, int cin, int outH, int outW, int cout, int padTop, int padLeft,
                 boolean flipped, WorkerPool pool, ConvWorkspace ws) {
        if (cin < VL || cout < VL) throw new IllegalArgumentException("Winograd needs at least " + VL + " channels: " + cin + " -> " + cout);
        this.n = n; this.inH = inH; this.inW = inW; this.cin = cin;
        this.outH = outH; this.outW = outW; this.cout = cout;
        this.padTop = padTop; this.padLeft = padLeft;
        this.flipped = flipped;
        this.pool = pool;
        this.ws = ws;
        this.tilesH = (outH + 1) / 2;
        this.tilesW = (outW + 1) / 2;
        this.tiles = n * tilesH * tilesW;
        this.slivers = (cout + NR - 1) / NR;
        this.ldm = slivers * NR;
        int perBlock = Math.max(2 * MR, Math.min(MAX_TILES_PER_BLOCK, BLOCK_FLOATS / (16 * (cin + ldm))) / MR * MR);
        // at least two blocks a thread when there are tiles for it, so a slow core does not hold the others up
        while (perBlock > MR && (tiles + perBlock - 1) / perBlock < 2 * pool.threads()) perBlock -= MR;
        this.tilesPerBlock = Math.min(perBlock, (tiles + MR - 1) / MR * MR);
        this.blocks = (tiles + tilesPerBlock - 1) / tilesPerBlock;
        ws.reserve(packedSize() + (flipped ? 9L * cin * cout : 0));
    }

    private int packedSize() { return 16 * slivers * cin * NR; }

    private int blockFloats() { return 16 * tilesPerBlock * (cin + ldm); }

    /** y = act(conv(x, w) + bias); y [n, outH, outW, cout] is overwritten; bias [cout] or null. */
    void run(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] bias, int biasOff, Epilogue.Activation act) {
        filterTransform.run(w, wOff);
        this.x = x; this.xOff = xOff;
        this.y = y; this.yOff = yOff;
        this.bias = bias; this.biasOff = biasOff;
        this.act = act;
        try {
            if ((long) tiles * cin * cout < 1 << 14) run(0, blocks);
            else pool.parallelFor(blocks, this);
        } finally {
            this.x = null; this.y = null; this.bias = null;
        }
    }

    // u[((p·slivers + co/NR)·cin + ci)·NR + co%NR] = (G g Gᵀ)[p] for the 3×3 kernel g of (ci, co); 0 past cout.
    // Vectors along co; a flipped filter is first copied per ci into the unflipped layout [3, 3, cin, cout] in ws.
    private final class FilterTransform implements WorkerPool.RangeTask {
        private float[] w;
        private int wOff;

        void run(float[] w, int wOff) {
            this.w = w;
            this.wOff = wOff;
            try {
                if ((long) cin * cout < 1 << 12) run(0, cin);
                else pool.parallelFor(cin, this);
            } finally {
                this.w = null;
            }
        }

        @Override public void run(int from, int to) {
            float[] u = ws.data(), g = w;
            int gOff = wOff;
            if (flipped) {
                // scratch[(tap·cin + ci)·cout + co] = w[(flip(tap)·cout + co)·cin + ci]: rows [from, to) of each tap
                int scratch = packedSize();
                for (int tap = 0; tap < 9; tap++) {
                    int src = wOff + (8 - tap) * cout * cin;
                    for (int ci = from; ci < to; ci++) {
                        int dst = scratch + (tap * cin + ci) * cout;
                        for (int co = 0; co < cout; co++) u[dst + co] = w[src + co * cin + ci];
                    }
                }
                g = u;
                gOff = scratch;
            }
            int tail = slivers * NR - cout, sStride = cin * NR, pStride = slivers * sStride, tapStride = cin * cout;
            int bound = SPECIES.loopBound(cout);
            for (int ci = from; ci < to; ci++) {
                if (tail > 0) {
                    for (int p = 0; p < 16; p++) {
                        int at = p * pStride + (slivers - 1) * sStride + ci * NR + NR - tail;
                        java.util.Arrays.fill(u, at, at + tail, 0f);
                    }
                }
                int gi = gOff + ci * cout, co = 0;
                for (; co < bound; co += VL) {
                    int o = gi + co;
                    FloatVector g00 = FloatVector.fromArray(SPECIES, g, o), g01 = FloatVector.fromArray(SPECIES, g, o + tapStride);
                    FloatVector g02 = FloatVector.fromArray(SPECIES, g, o + 2 * tapStride), g10 = FloatVector.fromArray(SPECIES, g, o + 3 * tapStride);
                    FloatVector g11 = FloatVector.fromArray(SPECIES, g, o + 4 * tapStride), g12 = FloatVector.fromArray(SPECIES, g, o + 5 * tapStride);
                    FloatVector g20 = FloatVector.fromArray(SPECIES, g, o + 6 * tapStride), g21 = FloatVector.fromArray(SPECIES, g, o + 7 * tapStride);
                    FloatVector g22 = FloatVector.fromArray(SPECIES, g, o + 8 * tapStride);
                    // G g: rows (g0, (g0+g1+g2)/2, (g0−g1+g2)/2, g2) per column; then the same along each row
                    FloatVector h0 = g00.add(g20), h1 = g01.add(g21), h2 = g02.add(g22);
                    FloatVector t10 = h0.add(g10).mul(0.5f), t11 = h1.add(g11).mul(0.5f), t12 = h2.add(g12).mul(0.5f);
                    FloatVector t20 = h0.sub(g10).mul(0.5f), t21 = h1.sub(g11).mul(0.5f), t22 = h2.sub(g12).mul(0.5f);
                    // written out, not a helper taking vectors: a call C2 declines to inline would box every vector
                    int at = (co / NR) * sStride + ci * NR + co % NR;
                    FloatVector a0 = g00.add(g02), a1 = t10.add(t12), a2 = t20.add(t22), a3 = g20.add(g22);
                    g00.intoArray(u, at);
                    a0.add(g01).mul(0.5f).intoArray(u, at + pStride);
                    a0.sub(g01).mul(0.5f).intoArray(u, at + 2 * pStride);
                    g02.intoArray(u, at + 3 * pStride);
                    t10.intoArray(u, at + 4 * pStride);
                    a1.add(t11).mul(0.5f).intoArray(u, at + 5 * pStride);
                    a1.sub(t11).mul(0.5f).intoArray(u, at + 6 * pStride);
                    t12.intoArray(u, at + 7 * pStride);
                    t20.intoArray(u, at + 8 * pStride);
                    a2.add(t21).mul(0.5f).intoArray(u, at + 9 * pStride);
                    a2.sub(t21).mul(0.5f).intoArray(u, at + 10 * pStride);
                    t22.intoArray(u, at + 11 * pStride);
                    g20.intoArray(u, at + 12 * pStride);
                    a3.add(g21).mul(0.5f).intoArray(u, at + 13 * pStride);
                    a3.sub(g21).mul(0.5f).intoArray(u, at + 14 * pStride);
                    g22.intoArray(u, at + 15 * pStride);
                }
                for (; co < cout; co++) {
                    int o = gi + co;
                    float g00 = g[o], g01 = g[o + tapStride], g02 = g[o + 2 * tapStride];
                    float g10 = g[o + 3 * tapStride], g11 = g[o + 4 * tapStride], g12 = g[o + 5 * tapStride];
                    float g20 = g[o + 6 * tapStride], g21 = g[o + 7 * tapStride], g22 = g[o + 8 * tapStride];
                    float h0 = g00 + g20, h1 = g01 + g21, h2 = g02 + g22;
                    int at = (co / NR) * sStride + ci * NR + co % NR;
                    row(u, at, pStride, g00, g01, g02);
                    row(u, at + 4 * pStride, pStride, 0.5f * (h0 + g10), 0.5f * (h1 + g11), 0.5f * (h2 + g12));
                    row(u, at + 8 * pStride, pStride, 0.5f * (h0 - g10), 0.5f * (h1 - g11), 0.5f * (h2 - g12));
                    row(u, at + 12 * pStride, pStride, g20, g21, g22);
                }
            }
        }
    }

    // (t Gᵀ) for one row t of G g: entries p = 4·row + 0..3, pStride apart
    private static void row(float[] u, int at, int pStride, float a, float b, float c) {
        u[at] = a;
        u[at + pStride] = 0.5f * (a + b + c);
        u[at + 2 * pStride] = 0.5f * (a - b + c);
        u[at + 3 * pStride] = c;
    }

    @Override public void run(int from, int to) {
        float[][] bufs = BUFFERS.get();
        if (bufs[0].length < blockFloats()) bufs[0] = new float[blockFloats()];
        float[] buf = bufs[0], u = ws.data();
        int vBase = 0, mBase = 16 * tilesPerBlock * cin;
        for (int b = from; b < to; b++) {
            int t0 = b * tilesPerBlock, nt = Math.min(tilesPerBlock, tiles - t0);
            for (int tt = 0; tt < nt; tt++) inputTransform(t0 + tt, buf, vBase + tt * cin, tilesPerBlock * cin);
            for (int p = 0; p < 16; p++) {
                int v = vBase + p * tilesPerBlock * cin, m = mBase + p * tilesPerBlock * ldm;
                for (int s = 0; s < slivers; s++) {
                    int ub = (p * slivers + s) * cin * NR;
                    for (int r0 = 0; r0 < nt; r0 += MR) {
                        // V's rows where they lie, U's packed sliver; past nt the rows are stale (V has whole MR-row tiles
                        // of room, tilesPerBlock being a multiple of MR) and land in M's spare rows, which are never read
                        MicroKernel.packed(cin, buf, v + r0 * cin, cin, u, ub, buf, m + r0 * ldm + s * NR, ldm, MR, NR, false, null);
                    }
                }
            }
            for (int tt = 0; tt < nt; tt++) outputTransform(t0 + tt, buf, mBase + tt * ldm, tilesPerBlock * ldm);
        }
    }

    // v[at + p·pStride + ci] = (Bᵀ d B)[p] for the 4×4 input patch d of tile t, channel ci
    private void inputTransform(int t, float[] v, int at, int pStride) {
        int perImage = tilesH * tilesW, img = t / perImage, rem = t - img * perImage, ty = rem / tilesW, tx = rem - ty * tilesW;
        int ih = 2 * ty - padTop, iw = 2 * tx - padLeft, base = xOff + img * inH * inW * cin;
        // row starts and column offsets of the patch, −1 outside the input (reads as zero)
        int r0 = rowAt(base, ih), r1 = rowAt(base, ih + 1), r2 = rowAt(base, ih + 2), r3 = rowAt(base, ih + 3);
        int c0 = colAt(iw), c1 = colAt(iw + 1), c2 = colAt(iw + 2), c3 = colAt(iw + 3);
        float[] x = this.x;
        // a channel tail is done as the last whole vector, cin − VL .. cin, recomputing some channels: no masks
        for (int ch = 0; ch < cin; ch += VL) {
            int c = Math.min(ch, cin - VL);
            // Bᵀ d: rows (d0 − d2, d1 + d2, d2 − d1, d1 − d3), column by column
            FloatVector d0 = ld(x, r0, c0, c), d1 = ld(x, r1, c0, c), d2 = ld(x, r2, c0, c), d3 = ld(x, r3, c0, c);
            FloatVector a00 = d0.sub(d2), a10 = d1.add(d2), a20 = d2.sub(d1), a30 = d1.sub(d3);
            d0 = ld(x, r0, c1, c); d1 = ld(x, r1, c1, c); d2 = ld(x, r2, c1, c); d3 = ld(x, r3, c1, c);
            FloatVector a01 = d0.sub(d2), a11 = d1.add(d2), a21 = d2.sub(d1), a31 = d1.sub(d3);
            d0 = ld(x, r0, c2, c); d1 = ld(x, r1, c2, c); d2 = ld(x, r2, c2, c); d3 = ld(x, r3, c2, c);
            FloatVector a02 = d0.sub(d2), a12 = d1.add(d2), a22 = d2.sub(d1), a32 = d1.sub(d3);
            d0 = ld(x, r0, c3, c); d1 = ld(x, r1, c3, c); d2 = ld(x, r2, c3, c); d3 = ld(x, r3, c3, c);
            FloatVector a03 = d0.sub(d2), a13 = d1.add(d2), a23 = d2.sub(d1), a33 = d1.sub(d3);
            // (Bᵀ d) B: the same combination along each row
            int o = at + c;
            a00.sub(a02).intoArray(v, o);
            a01.add(a02).intoArray(v, o + pStride);
            a02.sub(a01).intoArray(v, o + 2 * pStride);
            a01.sub(a03).intoArray(v, o + 3 * pStride);
            a10.sub(a12).intoArray(v, o + 4 * pStride);
            a11.add(a12).intoArray(v, o + 5 * pStride);
            a12.sub(a11).intoArray(v, o + 6 * pStride);
            a11.sub(a13).intoArray(v, o + 7 * pStride);
            a20.sub(a22).intoArray(v, o + 8 * pStride);
            a21.add(a22).intoArray(v, o + 9 * pStride);
            a22.sub(a21).intoArray(v, o + 10 * pStride);
            a21.sub(a23).intoArray(v, o + 11 * pStride);
            a30.sub(a32).intoArray(v, o + 12 * pStride);
            a31.add(a32).intoArray(v, o + 13 * pStride);
            a32.sub(a31).intoArray(v, o + 14 * pStride);
            a31.sub(a33).intoArray(v, o + 15 * pStride);
        }
    }

    private int rowAt(int base, int ih) { return ih < 0 || ih >= inH ? -1 : base + ih * inW * cin; }

    private int colAt(int iw) { return iw < 0 || iw >= inW ? -1 : iw * cin; }

    private static FloatVector ld(float[] x, int row, int col, int c) {
        return row < 0 || col < 0 ? FloatVector.zero(SPECIES) : FloatVector.fromArray(SPECIES, x, row + col + c);
    }


    // y's pixels of tile t = (Aᵀ M A) from m[at + p·pStride + co], then bias and activation on them
    private void outputTransform(int t, float[] m, int at, int pStride) {
        int perImage = tilesH * tilesW, img = t / perImage, rem = t - img * perImage, ty = rem / tilesW, tx = rem - ty * tilesW;
        int oh = 2 * ty, ow = 2 * tx;
        boolean down = oh + 1 < outH, right = ow + 1 < outW;
        int y00 = yOff + ((img * outH + oh) * outW + ow) * cout, y01 = y00 + cout, y10 = y00 + outW * cout, y11 = y10 + cout;
        float[] y = this.y;
        // a channel tail is the last whole vector again; bias and activation come after, so rewriting is harmless
        for (int ch = 0; ch < cout; ch += VL) {
            int c = Math.min(ch, cout - VL), o = at + c;
            // Aᵀ M: rows (m0 + m1 + m2, m1 − m2 − m3) per column
            FloatVector m0 = FloatVector.fromArray(SPECIES, m, o), m1 = FloatVector.fromArray(SPECIES, m, o + 4 * pStride);
            FloatVector m2 = FloatVector.fromArray(SPECIES, m, o + 8 * pStride), m3 = FloatVector.fromArray(SPECIES, m, o + 12 * pStride);
            FloatVector s00 = m0.add(m1).add(m2), s10 = m1.sub(m2).sub(m3);
            m0 = FloatVector.fromArray(SPECIES, m, o + pStride); m1 = FloatVector.fromArray(SPECIES, m, o + 5 * pStride);
            m2 = FloatVector.fromArray(SPECIES, m, o + 9 * pStride); m3 = FloatVector.fromArray(SPECIES, m, o + 13 * pStride);
            FloatVector s01 = m0.add(m1).add(m2), s11 = m1.sub(m2).sub(m3);
            m0 = FloatVector.fromArray(SPECIES, m, o + 2 * pStride); m1 = FloatVector.fromArray(SPECIES, m, o + 6 * pStride);
            m2 = FloatVector.fromArray(SPECIES, m, o + 10 * pStride); m3 = FloatVector.fromArray(SPECIES, m, o + 14 * pStride);
            FloatVector s02 = m0.add(m1).add(m2), s12 = m1.sub(m2).sub(m3);
            m0 = FloatVector.fromArray(SPECIES, m, o + 3 * pStride); m1 = FloatVector.fromArray(SPECIES, m, o + 7 * pStride);
            m2 = FloatVector.fromArray(SPECIES, m, o + 11 * pStride); m3 = FloatVector.fromArray(SPECIES, m, o + 15 * pStride);
            FloatVector s03 = m0.add(m1).add(m2), s13 = m1.sub(m2).sub(m3);
            // (Aᵀ M) A: the same along each row
            s00.add(s01).add(s02).intoArray(y, y00 + c);
            if (right) s01.sub(s02).sub(s03).intoArray(y, y01 + c);
            if (down) {
                s10.add(s11).add(s12).intoArray(y, y10 + c);
                if (right) s11.sub(s12).sub(s13).intoArray(y, y11 + c);
            }
        }
        if (bias == null && act == Epilogue.Activation.NONE) return;
        Gemm.epilogue(y, y00, cout, bias, biasOff, 1, act);
        if (right) Gemm.epilogue(y, y01, cout, bias, biasOff, 1, act);
        if (down) {
            Gemm.epilogue(y, y10, cout, bias, biasOff, 1, act);
            if (right) Gemm.epilogue(y, y11, cout, bias, biasOff, 1, act);
        }
    }

    // ---- filter gradient: dw = Gᵀ (Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ d B)) G, the transpose of the forward pass ----

    // tiles are summed in this many segments of consecutive blocks, each into its own partial dU, then added in
    // segment order: the split depends on the shape only, so results do not depend on the thread count
    private static final int FILTER_SEGMENTS = 4;
    // rows (input channels) of the filter gradient's register tile
    private static final int GR = 12;
    // floats of V plus D per filter-gradient block: 2 MiB, beyond L2, as longer blocks load and store each partial
    // dU (16·cin·cout floats) less often (M3's 7x7x128->128 at 1 thread: 7.9 ms at 2^17, 6.7 at 2^19)
    private static final int FILTER_BLOCK_FLOATS = 1 << 19;

    private int segments() { return Math.min(FILTER_SEGMENTS, filterBlocks()); }

    private int filterBlocks() { return (tiles + filterTilesPerBlock() - 1) / filterTilesPerBlock(); }

    // not shrunk for the thread count, unlike tilesPerBlock: the segments' sums must not depend on it
    private int filterTilesPerBlock() {
        return Math.min(Math.max(2 * MR, Math.min(MAX_TILES_PER_BLOCK, FILTER_BLOCK_FLOATS / (16 * (cin + ldm))) / MR * MR),
                        (tiles + MR - 1) / MR * MR);
    }

    private int cinPadded() { return (cin + GR - 1) / GR * GR; }

    private long partialFloats() { return 16L * cinPadded() * ldm; }

    /** Reserves the filter gradient's partial sums; the kernel must not be {@code flipped}. */
    WinogradConv forFilterGradient() {
        if (flipped) throw new IllegalStateException("the filter gradient reads the forward geometry");
        ws.reserve(segments() * partialFloats());
        return this;
    }

    /** dw [3, 3, cin, cout] = ∂⟨conv(x, w), dy⟩/∂w, overwritten; dy [n, outH, outW, cout]. */
    void backwardFilter(float[] x, int xOff, float[] dy, int dyOff, float[] dw, int dwOff) {
        this.x = x; this.xOff = xOff;
        this.y = dy; this.yOff = dyOff;
        try {
            filterPhase = 0;
            if ((long) tiles * cin * cout < 1 << 14) filterTask.run(0, segments());
            else pool.parallelFor(segments(), filterTask);
            this.dw = dw; this.dwOff = dwOff;
            filterPhase = 1;
            if ((long) cin * cout < 1 << 12) filterTask.run(0, cin);
            else pool.parallelFor(cin, filterTask);
        } finally {
            this.x = null; this.y = null; this.dw = null;
        }
    }

    // the filter-gradient call in flight: its phase (0: segments' partial sums, 1: their sum's inverse transform)
    private float[] dw;
    private int dwOff, filterPhase;
    private final FilterGradient filterTask = new FilterGradient();

    private final class FilterGradient implements WorkerPool.RangeTask {
        @Override public void run(int from, int to) {
            if (filterPhase == 0) for (int s = from; s < to; s++) segment(s);
            else for (int ci = from; ci < to; ci++) inverse(ci);
        }
    }

    // partial dU of segment s [16][cinPadded][ldm] = Σ over its blocks' tiles of V_pᵀ · D_p
    private void segment(int s) {
        float[][] bufs = BUFFERS.get();
        int tpb = filterTilesPerBlock(), need = 16 * tpb * (cin + ldm);
        if (bufs[0].length < need) bufs[0] = new float[need];
        float[] buf = bufs[0], part = ws.data();
        int partAt = (int) (s * partialFloats()), segs = segments(), fb = filterBlocks(), cinP = cinPadded();
        java.util.Arrays.fill(part, partAt, partAt + (int) partialFloats(), 0f);
        int dBase = 16 * tpb * cin;
        for (int b = s * fb / segs, end = (s + 1) * fb / segs; b < end; b++) {
            int t0 = b * tpb, nt = Math.min(tpb, tiles - t0);
            for (int tt = 0; tt < nt; tt++) {
                inputTransform(t0 + tt, buf, tt * cin, tpb * cin);
                dyTransform(t0 + tt, buf, dBase + tt * ldm, tpb * ldm);
            }
            for (int p = 0; p < 16; p++) {
                int v = p * tpb * cin, d = dBase + p * tpb * ldm, u = partAt + p * cinP * ldm;
                for (int c0 = 0; c0 < cin; c0 += GR) {
                    for (int sl = 0; sl < slivers; sl++) {
                        gradTile(nt, buf, v + c0, cin, buf, d + sl * NR, ldm, part, u + c0 * ldm + sl * NR, ldm);
                    }
                }
            }
        }
    }

    /**
     * c[r, 0..NR) += Σ_kk a[o + r + kk·lda] · b[ib + kk·ldb ..] for r < 12: V_pᵀ · D_p on a 12 × 2-vector register tile
     * (24 accumulators: AVX-512 has 32 registers), so each D row loaded feeds 24 FMAs; k (the block's tiles) is short,
     * so the accumulators are loaded and stored once a block. Rows past the channels read the next tile's (ignored).
     */
    private static void gradTile(int k, float[] a, int o, int lda, float[] b, int ib, int ldb, float[] c, int ic, int ldc) {
        FloatVector c0a = FloatVector.fromArray(SPECIES, c, ic + 0 * ldc), c0b = FloatVector.fromArray(SPECIES, c, ic + 0 * ldc + VL);
        FloatVector c1a = FloatVector.fromArray(SPECIES, c, ic + 1 * ldc), c1b = FloatVector.fromArray(SPECIES, c, ic + 1 * ldc + VL);
        FloatVector c2a = FloatVector.fromArray(SPECIES, c, ic + 2 * ldc), c2b = FloatVector.fromArray(SPECIES, c, ic + 2 * ldc + VL);
        FloatVector c3a = FloatVector.fromArray(SPECIES, c, ic + 3 * ldc), c3b = FloatVector.fromArray(SPECIES, c, ic + 3 * ldc + VL);
        FloatVector c4a = FloatVector.fromArray(SPECIES, c, ic + 4 * ldc), c4b = FloatVector.fromArray(SPECIES, c, ic + 4 * ldc + VL);
        FloatVector c5a = FloatVector.fromArray(SPECIES, c, ic + 5 * ldc), c5b = FloatVector.fromArray(SPECIES, c, ic + 5 * ldc + VL);
        FloatVector c6a = FloatVector.fromArray(SPECIES, c, ic + 6 * ldc), c6b = FloatVector.fromArray(SPECIES, c, ic + 6 * ldc + VL);
        FloatVector c7a = FloatVector.fromArray(SPECIES, c, ic + 7 * ldc), c7b = FloatVector.fromArray(SPECIES, c, ic + 7 * ldc + VL);
        FloatVector c8a = FloatVector.fromArray(SPECIES, c, ic + 8 * ldc), c8b = FloatVector.fromArray(SPECIES, c, ic + 8 * ldc + VL);
        FloatVector c9a = FloatVector.fromArray(SPECIES, c, ic + 9 * ldc), c9b = FloatVector.fromArray(SPECIES, c, ic + 9 * ldc + VL);
        FloatVector c10a = FloatVector.fromArray(SPECIES, c, ic + 10 * ldc), c10b = FloatVector.fromArray(SPECIES, c, ic + 10 * ldc + VL);
        FloatVector c11a = FloatVector.fromArray(SPECIES, c, ic + 11 * ldc), c11b = FloatVector.fromArray(SPECIES, c, ic + 11 * ldc + VL);
        for (int kk = 0; kk < k; kk++, o += lda, ib += ldb) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, ib), b1 = FloatVector.fromArray(SPECIES, b, ib + VL);
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[o + 0]);
            c0a = a0.fma(b0, c0a);
            c0b = a0.fma(b1, c0b);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[o + 1]);
            c1a = a1.fma(b0, c1a);
            c1b = a1.fma(b1, c1b);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[o + 2]);
            c2a = a2.fma(b0, c2a);
            c2b = a2.fma(b1, c2b);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[o + 3]);
            c3a = a3.fma(b0, c3a);
            c3b = a3.fma(b1, c3b);
            FloatVector a4 = FloatVector.broadcast(SPECIES, a[o + 4]);
            c4a = a4.fma(b0, c4a);
            c4b = a4.fma(b1, c4b);
            FloatVector a5 = FloatVector.broadcast(SPECIES, a[o + 5]);
            c5a = a5.fma(b0, c5a);
            c5b = a5.fma(b1, c5b);
            FloatVector a6 = FloatVector.broadcast(SPECIES, a[o + 6]);
            c6a = a6.fma(b0, c6a);
            c6b = a6.fma(b1, c6b);
            FloatVector a7 = FloatVector.broadcast(SPECIES, a[o + 7]);
            c7a = a7.fma(b0, c7a);
            c7b = a7.fma(b1, c7b);
            FloatVector a8 = FloatVector.broadcast(SPECIES, a[o + 8]);
            c8a = a8.fma(b0, c8a);
            c8b = a8.fma(b1, c8b);
            FloatVector a9 = FloatVector.broadcast(SPECIES, a[o + 9]);
            c9a = a9.fma(b0, c9a);
            c9b = a9.fma(b1, c9b);
            FloatVector a10 = FloatVector.broadcast(SPECIES, a[o + 10]);
            c10a = a10.fma(b0, c10a);
            c10b = a10.fma(b1, c10b);
            FloatVector a11 = FloatVector.broadcast(SPECIES, a[o + 11]);
            c11a = a11.fma(b0, c11a);
            c11b = a11.fma(b1, c11b);
        }
        c0a.intoArray(c, ic + 0 * ldc); c0b.intoArray(c, ic + 0 * ldc + VL);
        c1a.intoArray(c, ic + 1 * ldc); c1b.intoArray(c, ic + 1 * ldc + VL);
        c2a.intoArray(c, ic + 2 * ldc); c2b.intoArray(c, ic + 2 * ldc + VL);
        c3a.intoArray(c, ic + 3 * ldc); c3b.intoArray(c, ic + 3 * ldc + VL);
        c4a.intoArray(c, ic + 4 * ldc); c4b.intoArray(c, ic + 4 * ldc + VL);
        c5a.intoArray(c, ic + 5 * ldc); c5b.intoArray(c, ic + 5 * ldc + VL);
        c6a.intoArray(c, ic + 6 * ldc); c6b.intoArray(c, ic + 6 * ldc + VL);
        c7a.intoArray(c, ic + 7 * ldc); c7b.intoArray(c, ic + 7 * ldc + VL);
        c8a.intoArray(c, ic + 8 * ldc); c8b.intoArray(c, ic + 8 * ldc + VL);
        c9a.intoArray(c, ic + 9 * ldc); c9b.intoArray(c, ic + 9 * ldc + VL);
        c10a.intoArray(c, ic + 10 * ldc); c10b.intoArray(c, ic + 10 * ldc + VL);
        c11a.intoArray(c, ic + 11 * ldc); c11b.intoArray(c, ic + 11 * ldc + VL);
    }

    // d[at + p·pStride + co] = (A q Aᵀ)[p] for the 2×2 dy tile q of tile t (missing pixels of edge tiles read as 0)
    private void dyTransform(int t, float[] d, int at, int pStride) {
        int perImage = tilesH * tilesW, img = t / perImage, rem = t - img * perImage, ty = rem / tilesW, tx = rem - ty * tilesW;
        int oh = 2 * ty, ow = 2 * tx;
        boolean down = oh + 1 < outH, right = ow + 1 < outW;
        int q00 = yOff + ((img * outH + oh) * outW + ow) * cout, q01 = right ? q00 + cout : -1;
        int q10 = down ? q00 + outW * cout : -1, q11 = down && right ? q10 + cout : -1;
        float[] dy = this.y;
        FloatVector zero = FloatVector.zero(SPECIES);
        for (int ch = 0; ch < cout; ch += VL) {
            int c = Math.min(ch, cout - VL), o = at + c;
            FloatVector e00 = FloatVector.fromArray(SPECIES, dy, q00 + c);
            FloatVector e01 = q01 < 0 ? zero : FloatVector.fromArray(SPECIES, dy, q01 + c);
            FloatVector e10 = q10 < 0 ? zero : FloatVector.fromArray(SPECIES, dy, q10 + c);
            FloatVector e11 = q11 < 0 ? zero : FloatVector.fromArray(SPECIES, dy, q11 + c);
            // A q: rows (q0, q0 + q1, q0 − q1, −q1) per column; then the same along each row
            FloatVector s0 = e00.add(e10), s1 = e01.add(e11), t0 = e00.sub(e10), t1 = e01.sub(e11);
            FloatVector n0 = e10.neg();
            e00.intoArray(d, o);
            e00.add(e01).intoArray(d, o + pStride);
            e00.sub(e01).intoArray(d, o + 2 * pStride);
            e01.neg().intoArray(d, o + 3 * pStride);
            s0.intoArray(d, o + 4 * pStride);
            s0.add(s1).intoArray(d, o + 5 * pStride);
            s0.sub(s1).intoArray(d, o + 6 * pStride);
            s1.neg().intoArray(d, o + 7 * pStride);
            t0.intoArray(d, o + 8 * pStride);
            t0.add(t1).intoArray(d, o + 9 * pStride);
            t0.sub(t1).intoArray(d, o + 10 * pStride);
            t1.neg().intoArray(d, o + 11 * pStride);
            n0.intoArray(d, o + 12 * pStride);
            n0.sub(e11).intoArray(d, o + 13 * pStride);
            n0.add(e11).intoArray(d, o + 14 * pStride);
            e11.intoArray(d, o + 15 * pStride);
        }
    }

    // dw[tap, ci, :] = (Gᵀ dU G)[tap] with dU = Σ_segments partial[p, ci, :], vectors along co
    private void inverse(int ci) {
        float[] part = ws.data(), dw = this.dw;
        int segs = segments(), pStride = cinPadded() * ldm, tapStride = cin * cout;
        long segStride = partialFloats();
        for (int ch = 0; ch < cout; ch += VL) {
            int c = Math.min(ch, cout - VL), base = ci * ldm + c;
            FloatVector u0 = sum(part, base, segs, segStride), u1 = sum(part, base + pStride, segs, segStride);
            FloatVector u2 = sum(part, base + 2 * pStride, segs, segStride), u3 = sum(part, base + 3 * pStride, segs, segStride);
            FloatVector u4 = sum(part, base + 4 * pStride, segs, segStride), u5 = sum(part, base + 5 * pStride, segs, segStride);
            FloatVector u6 = sum(part, base + 6 * pStride, segs, segStride), u7 = sum(part, base + 7 * pStride, segs, segStride);
            FloatVector u8 = sum(part, base + 8 * pStride, segs, segStride), u9 = sum(part, base + 9 * pStride, segs, segStride);
            FloatVector u10 = sum(part, base + 10 * pStride, segs, segStride), u11 = sum(part, base + 11 * pStride, segs, segStride);
            FloatVector u12 = sum(part, base + 12 * pStride, segs, segStride), u13 = sum(part, base + 13 * pStride, segs, segStride);
            FloatVector u14 = sum(part, base + 14 * pStride, segs, segStride), u15 = sum(part, base + 15 * pStride, segs, segStride);
            // Gᵀ dU: rows (u0 + (u1 + u2)/2, (u1 − u2)/2, (u1 + u2)/2 + u3) per column j
            FloatVector a0 = u4.add(u8).mul(0.5f), a1 = u5.add(u9).mul(0.5f), a2 = u6.add(u10).mul(0.5f), a3 = u7.add(u11).mul(0.5f);
            FloatVector h00 = u0.add(a0), h01 = u1.add(a1), h02 = u2.add(a2), h03 = u3.add(a3);
            FloatVector h10 = u4.sub(u8).mul(0.5f), h11 = u5.sub(u9).mul(0.5f), h12 = u6.sub(u10).mul(0.5f), h13 = u7.sub(u11).mul(0.5f);
            FloatVector h20 = a0.add(u12), h21 = a1.add(u13), h22 = a2.add(u14), h23 = a3.add(u15);
            // (Gᵀ dU) G: the same along each row
            int o = dwOff + ci * cout + c;
            FloatVector b0 = h01.add(h02).mul(0.5f), b1 = h11.add(h12).mul(0.5f), b2 = h21.add(h22).mul(0.5f);
            h00.add(b0).intoArray(dw, o);
            h01.sub(h02).mul(0.5f).intoArray(dw, o + tapStride);
            b0.add(h03).intoArray(dw, o + 2 * tapStride);
            h10.add(b1).intoArray(dw, o + 3 * tapStride);
            h11.sub(h12).mul(0.5f).intoArray(dw, o + 4 * tapStride);
            b1.add(h13).intoArray(dw, o + 5 * tapStride);
            h20.add(b2).intoArray(dw, o + 6 * tapStride);
            h21.sub(h22).mul(0.5f).intoArray(dw, o + 7 * tapStride);
            b2.add(h23).intoArray(dw, o + 8 * tapStride);
        }
    }

    private static FloatVector sum(float[] part, int at, int segs, long segStride) {
        FloatVector s = FloatVector.fromArray(SPECIES, part, at);
        for (int k = 1; k < segs; k++) s = s.add(FloatVector.fromArray(SPECIES, part, (int) (at + k * segStride)));
        return s;
    }
}
