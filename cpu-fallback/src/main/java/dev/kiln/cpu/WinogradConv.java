package dev.kiln.cpu;

import dev.kiln.graph.Linear;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd F(2×2, 3×3) convolution (Lavin and Gray, 2015) for 3×3, stride-1, undilated, ungrouped convolutions:
 * each 2×2 output tile costs 16 multiplies per (input, output) channel pair instead of 36. Serves the forward pass
 * and, with the filter flipped and its channel axes swapped, the stride-1 backward-data pass. Twin:
 * {@link Conv2dScalar}, through {@link Conv2dKernel}'s tests.
 *
 * y[n, oh, ow, co] = Σ_{i,j,ci} x[n, oh − padTop + i, ow − padLeft + j, ci] · g[i, j, ci, co], x read as zero
 * outside [0, inH) × [0, inW); cin and cout at least one vector ({@link Gemm#VL}). Scheme, per call: U = G g Gᵀ packed once into [16][sliver][cin][NR]; then output
 * tiles in blocks sized so the block's V [16][tiles][cin] and M [16][tiles][cout] stay in L2: V = Bᵀ d B (vectors
 * along the contiguous channels), 16 GEMMs M_p = V_p · U_p on {@link Gemm}'s 6 × 2-vector register tile, and
 * Y = Aᵀ M A written to y for the output pixels that exist (odd sizes: partial edge tiles), then bias and
 * activation on those pixels while in L1. Blocks are independent tasks, so results do not depend on thread count.
 * Accuracy: the transforms add and subtract up to 16 terms before and after the products, so fp32 error is a few
 * 1e-6 of Σ|terms| instead of direct convolution's ~1e-7. One caller at a time.
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
    private Linear.Activation act = Linear.Activation.NONE;

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
    void run(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] bias, int biasOff, Linear.Activation act) {
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
                int v = vBase + p * tilesPerBlock * cin, m = mBase + p * tilesPerBlock * ldm, last = v + (nt - 1) * cin;
                for (int s = 0; s < slivers; s++) {
                    int ub = (p * slivers + s) * cin * NR;
                    for (int r0 = 0; r0 < nt; r0 += MR) {
                        // past nt the last row repeats: M has whole MR-row tiles of room, its spare rows are never read
                        int o0 = v + r0 * cin;
                        gemmTile(cin, buf, o0, Math.min(o0 + cin, last), Math.min(o0 + 2 * cin, last),
                                 Math.min(o0 + 3 * cin, last), Math.min(o0 + 4 * cin, last), Math.min(o0 + 5 * cin, last),
                                 u, ub, buf, m + r0 * ldm + s * NR, ldm);
                    }
                }
            }
            for (int tt = 0; tt < nt; tt++) outputTransform(t0 + tt, buf, mBase + tt * ldm, tilesPerBlock * ldm);
        }
    }

    /**
     * c[r, 0..NR) = Σ_kk a[o_r + kk] · b[ib + kk·NR ..]: the 6 × 2-vector register tile of {@link Gemm}, on V's rows
     * where they lie and U's packed slivers; always whole (M's rows are NR-padded), so no edge stores.
     */
    private static void gemmTile(int k, float[] a, int o0, int o1, int o2, int o3, int o4, int o5,
                                 float[] b, int ib, float[] c, int ic, int ldc) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int kk = 0; kk < k; kk++, ib += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, ib);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, ib + VL);
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[o0 + kk]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[o1 + kk]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[o2 + kk]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[o3 + kk]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(SPECIES, a[o4 + kk]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(SPECIES, a[o5 + kk]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        int r0 = ic, r1 = ic + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
        c00.intoArray(c, r0); c01.intoArray(c, r0 + VL);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + VL);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + VL);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + VL);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + VL);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + VL);
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
        if (bias == null && act == Linear.Activation.NONE) return;
        Gemm.epilogue(y, y00, cout, bias, biasOff, 1, act);
        if (right) Gemm.epilogue(y, y01, cout, bias, biasOff, 1, act);
        if (down) {
            Gemm.epilogue(y, y10, cout, bias, biasOff, 1, act);
            if (right) Gemm.epilogue(y, y11, cout, bias, biasOff, 1, act);
        }
    }
}
