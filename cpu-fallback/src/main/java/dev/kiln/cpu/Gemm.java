package dev.kiln.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on the Vector API: C = op(A)·op(B) (+ C when {@code accumulate}), row-major.
 * Twin: {@link GemmScalar}.
 *
 * <pre>{@code Gemm.gemm(false, false, m, n, k, a, 0, k, b, 0, n, c, 0, n, false); }</pre>
 *
 * Scheme (BLIS/GotoBLAS): C is cut into output tiles of at most MC×NC, one task each on the {@link WorkerPool};
 * a tile walks K in KC-deep slices, packs its A block into MR-row slivers and its B block into NR-column
 * slivers (zero-padded, so the micro-kernel never branches), and runs the MR×NR micro-kernel over them:
 * 6 rows × 2 vectors = 12 FMA accumulators (6×32 on AVX-512, 6×16 on AVX2). Each tile packs its own B, which
 * costs 1/MC of the arithmetic and makes tiles independent: results do not depend on the thread count.
 * Pack buffers are per thread and allocated once; the call arguments travel in a per-thread job object,
 * so a call allocates nothing after the first on a thread. Blocking sizes are first guesses, to be tuned.
 */
public final class Gemm {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int VL = SPECIES.length();
    static final int MR = 6;
    static final int NR = 2 * VL;
    static final int KC = 256;
    static final int MC = 16 * MR;
    static final int NC = Math.max(256 / NR, 1) * NR;
    // below this many multiply-adds a call stays on the calling thread: waking workers costs more
    private static final long PARALLEL_FLOPS = 1L << 16;

    private static final ThreadLocal<Job> JOBS = ThreadLocal.withInitial(Job::new);
    private static final ThreadLocal<Workspace> WORKSPACES = ThreadLocal.withInitial(Workspace::new);

    private Gemm() {}

    /** C[m×n] = op(A)·op(B) (+ C), op(A) is m×k, op(B) is k×n; lda, ldb, ldc are the row strides as stored. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(WorkerPool.shared(), transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** As {@link #gemm(boolean, boolean, int, int, int, float[], int, int, float[], int, int, float[], int, int, boolean)} on the given pool. */
    public static void gemm(WorkerPool pool, boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        if (m <= 0 || n <= 0) return;
        Job job = JOBS.get();
        job.set(transA, transB, m, n, k, a, aOff, lda, null, b, bOff, ldb, null, c, cOff, ldc, 0, 1, accumulate);
        job.launch(pool);
    }

    /** C = op(A)·op(B) for every batch of {@code plan}; C is overwritten. */
    public static void matmul(MatMulPlan plan, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        matmul(WorkerPool.shared(), plan, a, aOff, b, bOff, c, cOff);
    }

    public static void matmul(WorkerPool pool, MatMulPlan plan, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        Job job = JOBS.get();
        job.set(plan.transA, plan.transB, plan.m, plan.n, plan.k, a, aOff, plan.lda, plan.aOffsets, b, bOff, plan.ldb,
                plan.bOffsets, c, cOff, plan.ldc, plan.cStride, plan.batches, false);
        job.launch(pool);
    }

    /** The arguments of one call, and the body that computes a range of its output tiles. */
    private static final class Job implements WorkerPool.RangeTask {
        boolean transA, transB, accumulate;
        int m, n, k, lda, ldb, ldc, aOff, bOff, cOff, cStride, batches;
        int[] aOffsets, bOffsets;
        float[] a, b, c;
        int mTile, nTile, tilesM, tilesN;

        void set(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, int[] aOffsets,
                 float[] b, int bOff, int ldb, int[] bOffsets, float[] c, int cOff, int ldc, int cStride, int batches,
                 boolean accumulate) {
            this.transA = transA; this.transB = transB; this.accumulate = accumulate;
            this.m = m; this.n = n; this.k = k;
            this.a = a; this.aOff = aOff; this.lda = lda; this.aOffsets = aOffsets;
            this.b = b; this.bOff = bOff; this.ldb = ldb; this.bOffsets = bOffsets;
            this.c = c; this.cOff = cOff; this.ldc = ldc; this.cStride = cStride; this.batches = batches;
        }

        void launch(WorkerPool pool) {
            mTile = MC;
            nTile = NC;
            int threads = (long) m * n * Math.max(k, 1) * batches < PARALLEL_FLOPS ? 1 : pool.threads();
            // smaller tiles when there are too few to keep every thread busy, down to one micro-tile
            while (tiles() < 2 * threads && (nTile > NR || mTile > MR)) {
                if (nTile > NR && (divUp(n, nTile) <= divUp(m, mTile) || mTile == MR)) nTile = Math.max(NR, nTile / 2 / NR * NR);
                else mTile = Math.max(MR, mTile / 2 / MR * MR);
            }
            tilesM = divUp(m, mTile);
            tilesN = divUp(n, nTile);
            int total = tilesM * tilesN * batches;
            try {
                if (threads == 1) run(0, total);
                else pool.parallelFor(total, this);
            } finally {
                a = null; b = null; c = null; aOffsets = null; bOffsets = null;
            }
        }

        private long tiles() { return (long) divUp(m, mTile) * divUp(n, nTile) * batches; }

        @Override public void run(int from, int to) {
            Workspace ws = WORKSPACES.get();
            int perBatch = tilesM * tilesN;
            for (int t = from; t < to; t++) {
                int bi = t / perBatch, r = t - bi * perBatch;
                int i0 = (r / tilesN) * mTile, j0 = (r % tilesN) * nTile;
                int ao = aOffsets == null ? aOff : aOff + aOffsets[bi];
                int bo = bOffsets == null ? bOff : bOff + bOffsets[bi];
                int co = cOff + bi * cStride;
                tile(ws, ao, bo, co, i0, Math.min(m, i0 + mTile), j0, Math.min(n, j0 + nTile));
            }
        }

        private void tile(Workspace ws, int ao, int bo, int co, int i0, int i1, int j0, int j1) {
            int mc = i1 - i0, nc = j1 - j0;
            if (k <= 0) {
                if (!accumulate) for (int i = i0; i < i1; i++) java.util.Arrays.fill(c, co + i * ldc + j0, co + i * ldc + j1, 0f);
                return;
            }
            for (int p0 = 0; p0 < k; p0 += KC) {
                int kc = Math.min(KC, k - p0);
                packB(ws.b, bo, p0, kc, j0, nc);
                packA(ws.a, ao, p0, kc, i0, mc);
                boolean add = accumulate || p0 > 0;
                for (int jr = 0; jr < nc; jr += NR) {
                    for (int ir = 0; ir < mc; ir += MR) {
                        microKernel(kc, ws.a, (ir / MR) * MR * kc, ws.b, (jr / NR) * NR * kc,
                                    c, co + (i0 + ir) * ldc + j0 + jr, ldc,
                                    Math.min(MR, mc - ir), Math.min(NR, nc - jr), add, ws.tile);
                    }
                }
            }
        }

        // dst: ⌈nc/NR⌉ slivers, each kc rows of NR floats: dst[s·NR·kc + p·NR + jj] = op(B)[p0+p, j0+s·NR+jj]
        private void packB(float[] dst, int bo, int p0, int kc, int j0, int nc) {
            for (int js = 0; js < nc; js += NR) {
                int base = (js / NR) * NR * kc, cols = Math.min(NR, nc - js), j = j0 + js;
                if (!transB) {
                    for (int p = 0; p < kc; p++) {
                        int src = bo + (p0 + p) * ldb + j, d = base + p * NR;
                        System.arraycopy(b, src, dst, d, cols);
                        for (int jj = cols; jj < NR; jj++) dst[d + jj] = 0f;
                    }
                } else {
                    for (int jj = 0; jj < cols; jj++) {
                        int src = bo + (j + jj) * ldb + p0;
                        for (int p = 0; p < kc; p++) dst[base + p * NR + jj] = b[src + p];
                    }
                    for (int jj = cols; jj < NR; jj++) for (int p = 0; p < kc; p++) dst[base + p * NR + jj] = 0f;
                }
            }
        }

        // dst: ⌈mc/MR⌉ slivers, each kc columns of MR floats: dst[s·MR·kc + p·MR + r] = op(A)[i0+s·MR+r, p0+p]
        private void packA(float[] dst, int ao, int p0, int kc, int i0, int mc) {
            for (int is = 0; is < mc; is += MR) {
                int base = (is / MR) * MR * kc, rows = Math.min(MR, mc - is), i = i0 + is;
                if (!transA) {
                    for (int r = 0; r < rows; r++) {
                        int src = ao + (i + r) * lda + p0;
                        for (int p = 0; p < kc; p++) dst[base + p * MR + r] = a[src + p];
                    }
                } else {
                    for (int p = 0; p < kc; p++) {
                        int src = ao + (p0 + p) * lda + i, d = base + p * MR;
                        for (int r = 0; r < rows; r++) dst[d + r] = a[src + r];
                    }
                }
                for (int r = rows; r < MR; r++) for (int p = 0; p < kc; p++) dst[base + p * MR + r] = 0f;
            }
        }
    }

    /**
     * The 6×(2·VL) register tile: C[0..rows, 0..cols] (+)= Σ_p A[:, p] ⊗ B[p, :] over packed slivers.
     * Edge tiles (rows < MR or cols < NR) go through {@code tile} so the hot loop has no masks.
     */
    static void microKernel(int kc, float[] pa, int ia, float[] pb, int ib, float[] c, int ic, int ldc,
                            int rows, int cols, boolean add, float[] tile) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int p = 0; p < kc; p++, ia += MR, ib += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, ib);
            FloatVector b1 = FloatVector.fromArray(SPECIES, pb, ib + VL);
            FloatVector a0 = FloatVector.broadcast(SPECIES, pa[ia]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, pa[ia + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, pa[ia + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, pa[ia + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(SPECIES, pa[ia + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(SPECIES, pa[ia + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        if (rows == MR && cols == NR) {
            // written out, not a helper taking vectors: a call C2 declines to inline would box every vector
            int r0 = ic, r1 = ic + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
            if (add) {
                c00 = c00.add(FloatVector.fromArray(SPECIES, c, r0)); c01 = c01.add(FloatVector.fromArray(SPECIES, c, r0 + VL));
                c10 = c10.add(FloatVector.fromArray(SPECIES, c, r1)); c11 = c11.add(FloatVector.fromArray(SPECIES, c, r1 + VL));
                c20 = c20.add(FloatVector.fromArray(SPECIES, c, r2)); c21 = c21.add(FloatVector.fromArray(SPECIES, c, r2 + VL));
                c30 = c30.add(FloatVector.fromArray(SPECIES, c, r3)); c31 = c31.add(FloatVector.fromArray(SPECIES, c, r3 + VL));
                c40 = c40.add(FloatVector.fromArray(SPECIES, c, r4)); c41 = c41.add(FloatVector.fromArray(SPECIES, c, r4 + VL));
                c50 = c50.add(FloatVector.fromArray(SPECIES, c, r5)); c51 = c51.add(FloatVector.fromArray(SPECIES, c, r5 + VL));
            }
            c00.intoArray(c, r0); c01.intoArray(c, r0 + VL);
            c10.intoArray(c, r1); c11.intoArray(c, r1 + VL);
            c20.intoArray(c, r2); c21.intoArray(c, r2 + VL);
            c30.intoArray(c, r3); c31.intoArray(c, r3 + VL);
            c40.intoArray(c, r4); c41.intoArray(c, r4 + VL);
            c50.intoArray(c, r5); c51.intoArray(c, r5 + VL);
            return;
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, VL);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + VL);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + VL);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + VL);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + VL);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + VL);
        for (int r = 0; r < rows; r++) {
            int row = ic + r * ldc;
            for (int j = 0; j < cols; j++) c[row + j] = add ? c[row + j] + tile[r * NR + j] : tile[r * NR + j];
        }
    }

    private static int divUp(int a, int b) { return (a + b - 1) / b; }

    /** Per-thread pack buffers, sized for the largest block. */
    private static final class Workspace {
        final float[] a = new float[MC * KC];
        final float[] b = new float[KC * NC];
        final float[] tile = new float[MR * NR];
    }
}
