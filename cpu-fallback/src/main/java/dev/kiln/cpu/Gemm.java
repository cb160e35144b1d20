package dev.kiln.cpu;

import dev.kiln.graph.Epilogue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on the Vector API: C = act(op(A)·op(B) (+ C when {@code accumulate}) + bias), row-major,
 * bias (optional) broadcast over rows. Twin: {@link GemmScalar}.
 *
 * <pre>{@code Gemm.gemm(backend.pool(), false, false, m, n, k, a, 0, k, b, 0, n, c, 0, n, false); }</pre>
 *
 * Shapes pick one of two paths:
 * <ul>
 *   <li><b>thin</b> (m ≤ {@value #THIN_M}, or n = 1 with contiguous C, which is the same problem transposed):
 *       batch-1 inference and dot products. Packing a 1-row matrix is waste, so {@link GemmThin} streams B
 *       once with vector FMAs straight from the operands.</li>
 *   <li><b>packed</b> (BLIS/GotoBLAS): on one thread (or with few rows a thread, or batches) C is cut into a few
 *       big output tiles (one task each on the {@link WorkerPool}; split along N for fat shapes, M for tall ones). A
 *       tile walks N in NC-wide panels and K in KC-deep slices; it packs its B panel once per slice into NR-column
 *       slivers, then for each MC-row block runs {@link MicroKernel#packed} over MR-row slivers of A. With rows
 *       enough for every thread, the threads share each B panel instead: they pack its slivers together, then each
 *       runs its own blocks of rows against it, so no sliver is packed twice. A is read in place when row-major, packed
 *       (zero-padded, so the micro-kernel never branches) when transposed or short. 6 rows × 2 vectors = 12 FMA
 *       accumulators (6×32 on AVX-512, 6×16 on AVX2). The B sliver (KC×NR) is reused from L1/L2 while A slivers
 *       stream from L2; the B panel lives in L3.</li>
 * </ul>
 * Bias and activation are applied to each output micro-tile right after its last K slice, while it is in L1:
 * no extra pass over C. Sums run over K in the same order whatever the tiling, so results do not depend on the
 * thread count. Pack buffers are per thread and allocated once; the call arguments travel in a per-thread job
 * object, so a call allocates nothing after the first on a thread.
 */
public final class Gemm {
    static final VectorSpecies<Float> SPECIES = MicroKernel.SPECIES;
    static final int VL = MicroKernel.VL;
    static final int MR = MicroKernel.MR;
    static final int NR = MicroKernel.NR;
    // Blocking for 32 KiB L1d / 1 MiB L2 per core and a shared L3 (AMD Zen 4 here; lscpu). The B sliver (KC·NR·4 =
    // 64 KiB) is reused by MC/MR A slivers; with one FMA per cycle it needs only 128 B per 12 cycles, which L2 serves
    // easily, so it need not stay in L1. A deep KC halves the C reloads (C comes back from L3 once per K slice) and a
    // wide NC means A is packed once per NC columns of C, not once per 512: the B panel (KC·NC·4 = 4 MiB) lives in L3.
    // Measured on one core (thread CPU time, KC × NC tried over 256..768 × 512..4096): 256 × 512 gave 88 GFLOP/s at
    // n = 2048 and 88-89 at n = 1024; 512 × 2048 gives 97-99 at both, and 1-4% more on the M1-M3 shapes.
    // MC (8..24 · MR) made no difference beyond noise.
    static final int KC = 512;
    static final int MC = 16 * MR;
    static final int NC = 2048 / NR * NR;
    /**
     * Products under this many multiply-adds go to the scalar twin: the vector paths gain nothing
     * there, and a kernel called only on such shapes may never get hot enough for C2, leaving the
     * Vector API on its allocating fallback (measured: 576 bytes per 3×5×7 call after 5,000 calls).
     */
    static final long TINY_FLOPS = 4096;

    /** Rows up to this go to the thin path. */
    static final int THIN_M = 4;
    // below this many multiply-adds a call stays on the calling thread: waking workers costs more
    static final long PARALLEL_FLOPS = 1L << 16;
    // The thin path is bound by streaming B: a 512×512 GEMV takes ~15 µs on one core from L3. Split over the
    // pool with a fixed column range per thread, each core re-reads its own half from its L2 on every call, and a
    // spinning worker joins within a microsecond; a late one never holds the caller up (it takes the chunks back).
    static final long THIN_PARALLEL_FLOPS = 1L << 17;

    // a packed call on several threads shares its B panels once A has this many rows a thread (else output tiles)
    static final int SHARED_PANEL_ROWS = 8 * MR;
    private static final int TILES = 0, PACK = 1, ROWS = 2;

    private static final ThreadLocal<Job> JOBS = ThreadLocal.withInitial(Job::new);
    private static final ThreadLocal<Workspace> WORKSPACES = ThreadLocal.withInitial(Workspace::new);

    private Gemm() {}

    /**
     * C[m×n] = op(A)·op(B) (+ C), op(A) is m×k, op(B) is k×n; lda, ldb, ldc are the row strides as stored.
     * The work is split over {@code pool} (the backend's: {@link CpuBackend#pool()}).
     */
    public static void gemm(WorkerPool pool, boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(pool, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, null, 0, Epilogue.Activation.NONE);
    }

    /**
     * C[i,j] = act(op(A)·op(B)[i,j] (+ C[i,j]) + bias[biasOff + j]); {@code bias} null adds nothing.
     * The dense layer's forward pass in one call.
     */
    public static void gemm(WorkerPool pool, boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff, Epilogue.Activation act) {
        if (m <= 0 || n <= 0) return;
        if ((long) m * n * k < TINY_FLOPS) {
            GemmScalar.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, bias, biasOff, act);
            return;
        }
        Job job = JOBS.get();
        job.set(transA, transB, m, n, k, a, aOff, lda, null, b, bOff, ldb, null, c, cOff, ldc, 0, 1, accumulate, bias, biasOff, act);
        job.launch(pool);
    }

    /** C = op(A)·op(B) for every batch of {@code plan}; C is overwritten. */
    public static void matmul(WorkerPool pool, MatMulPlan plan, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        matmul(pool, plan, a, aOff, b, bOff, c, cOff, null, 0, Epilogue.Activation.NONE);
    }

    /** C = act(op(A)·op(B) + bias) for every batch of {@code plan}, bias [n] broadcast over rows (null: none). */
    public static void matmul(WorkerPool pool, MatMulPlan plan, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                              float[] bias, int biasOff, Epilogue.Activation act) {
        Job job = JOBS.get();
        job.set(plan.transA, plan.transB, plan.m, plan.n, plan.k, a, aOff, plan.lda, plan.aOffsets, b, bOff, plan.ldb,
                plan.bOffsets, c, cOff, plan.ldc, plan.cStride, plan.batches, false, bias, biasOff, act);
        job.launch(pool);
    }

    /** The arguments of one call, and the body that computes a range of its output tiles. */
    static final class Job implements WorkerPool.RangeTask {
        boolean transA, transB, accumulate, thin;
        int m, n, k, lda, ldb, ldc, aOff, bOff, cOff, cStride, batches;
        int[] aOffsets, bOffsets;
        float[] a, b, c, bias;
        int biasOff, biasStride;
        Epilogue.Activation act;
        int mTile, nTile, tilesM, tilesN;
        // what run() does: output tiles, or for a shared panel ({@link #sharedPanels}) its packing or its row blocks
        int phase;
        float[] panel;
        int jc, nc, p0, kc, blockRows;

        void set(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda, int[] aOffsets,
                 float[] b, int bOff, int ldb, int[] bOffsets, float[] c, int cOff, int ldc, int cStride, int batches,
                 boolean accumulate, float[] bias, int biasOff, Epilogue.Activation act) {
            this.transA = transA; this.transB = transB; this.accumulate = accumulate;
            this.m = m; this.n = n; this.k = k;
            this.a = a; this.aOff = aOff; this.lda = lda; this.aOffsets = aOffsets;
            this.b = b; this.bOff = bOff; this.ldb = ldb; this.bOffsets = bOffsets;
            this.c = c; this.cOff = cOff; this.ldc = ldc; this.cStride = cStride; this.batches = batches;
            this.bias = bias; this.biasOff = biasOff; this.biasStride = 1; this.act = act;
        }

        void launch(WorkerPool pool) {
            try {
                if (k <= 0) { emptyProduct(); return; }
                if (n == 1 && ldc == 1 && m > THIN_M) transpose();
                thin = m <= THIN_M;
                // one output column with B a contiguous column (M1's last layer at batch 1): that memory is also
                // Bᵀ stored [1, K], and the dot form runs along K in vectors where the axpy form had one scalar
                // column (measured: 512→1 from ~1.5 µs to well under one)
                if (thin && n == 1 && !transB && ldb == 1) { transB = true; ldb = k; }
                long flops = (long) m * n * k * batches;
                int threads = flops < (thin ? THIN_PARALLEL_FLOPS : PARALLEL_FLOPS) ? 1 : pool.threads();
                if (thin) {
                    // one column chunk of whole vectors per thread, the same on every call (parallelForAffine): each
                    // thread streams its own part of B. One, not more: B rows are read in chunk-wide segments, and
                    // narrower segments stream slower (measured: 1×512×512 on one core, 4 chunks 30% slower than 1).
                    mTile = m;
                    tilesM = 1;
                    int chunks = threads == 1 ? 1 : Math.min(threads, Math.max(1, n / (4 * VL)));
                    nTile = chunks == 1 ? n : roundUp(divUp(n, chunks), VL);
                } else {
                    mTile = m;
                    nTile = n;
                    // Big tiles: packing B costs 1/mTile of the arithmetic and packing A 1/nTile (scalar gathers, far
                    // slower per float than the FMAs), so halve the longer side, N first (fat shapes split N, tall ones
                    // M), to two tiles per thread while tiles stay at least 48×128. Two, not one: a thread the OS
                    // deschedules mid-call then holds half of its share and the other thread takes the rest. Measured
                    // (2 threads, n = 256..1024): four per thread cost 3-10% for packing, two about the same as one.
                    while (threads > 1 && tiles() < 2L * threads) {
                        boolean splitN = nTile >= mTile ? nTile > 4 * NR : mTile <= 8 * MR && nTile > 4 * NR;
                        if (splitN) nTile = roundUp(divUp(nTile, 2), NR);
                        else if (mTile > 8 * MR) mTile = roundUp(divUp(mTile, 2), MR);
                        else break;
                    }
                    // small shapes: any split down to one micro-tile
                    while (threads > 1 && tiles() < 2L * threads) {
                        if (nTile >= mTile && nTile > NR) nTile = roundUp(divUp(nTile, 2), NR);
                        else if (mTile > MR) mTile = roundUp(divUp(mTile, 2), MR);
                        else break;
                    }
                }
                if (!thin && threads > 1 && batches == 1 && m >= SHARED_PANEL_ROWS * threads) {
                    sharedPanels(pool, threads);
                    return;
                }
                tilesM = divUp(m, mTile);
                tilesN = divUp(n, nTile);
                phase = TILES;
                int total = tilesM * tilesN * batches;
                if (threads == 1) run(0, total);
                else if (thin) pool.parallelForAffine(total, this);
                else pool.parallelFor(total, this);
            } finally {
                a = null; b = null; c = null; bias = null; aOffsets = null; bOffsets = null; panel = null;
            }
        }

        /**
         * C[m×1] = op(A)·b is C'[1×m] = bᵀ·op(A)ᵀ: swap the operands so the thin path streams A once.
         * b becomes the 1-row left operand (element p at stride ldb, or 1 when stored transposed),
         * A the right one with its transpose flag flipped; the single bias value applies to every column.
         */
        private void transpose() {
            boolean ta = transA, tb = transB;
            int la = lda, lb = ldb, ao = aOff, bo = bOff;
            int[] aos = aOffsets, bos = bOffsets;
            float[] aa = a, bb = b;
            transA = !tb; lda = lb; a = bb; aOff = bo; aOffsets = bos;
            transB = !ta; ldb = la; b = aa; bOff = ao; bOffsets = aos;
            n = m;
            m = 1;
            ldc = n;
            biasStride = 0;
        }

        private void emptyProduct() {
            for (int bi = 0; bi < batches; bi++) {
                for (int i = 0; i < m; i++) {
                    int row = cOff + bi * cStride + i * ldc;
                    if (!accumulate) java.util.Arrays.fill(c, row, row + n, 0f);
                    epilogue(c, row, n, bias, biasOff, biasStride, act);
                }
            }
        }

        private long tiles() { return (long) divUp(m, mTile) * divUp(n, nTile) * batches; }

        /**
         * The threads share one packed B panel (BLIS): per NC × KC panel, its NR-wide slivers are packed by all the
         * threads (one parallel call), then each thread runs blocks of rows of A against the whole panel (a second
         * call). No sliver is packed twice, where independent output tiles split along M each packed the same one.
         * Each element's sum still runs over K in KC slices in order, so the result does not depend on the split.
         */
        private void sharedPanels(WorkerPool pool, int threads) {
            panel = WORKSPACES.get().packedB();
            // four row blocks a thread, of whole MR slivers and at most MC rows
            blockRows = Math.min(MC, roundUp(divUp(m, 4 * threads), MR));
            int blocks = divUp(m, blockRows);
            try {
                for (jc = 0; jc < n; jc += NC) {
                    nc = Math.min(NC, n - jc);
                    for (p0 = 0; p0 < k; p0 += KC) {
                        kc = Math.min(KC, k - p0);
                        phase = PACK;
                        pool.parallelFor(divUp(nc, NR), this);
                        phase = ROWS;
                        pool.parallelFor(blocks, this);
                    }
                }
            } finally {
                panel = null;
            }
        }

        @Override public void run(int from, int to) {
            if (phase == PACK) {
                packB(panel, bOffsets == null ? bOff : bOff + bOffsets[0], p0, kc, jc, nc, from * NR, Math.min(nc, to * NR));
                return;
            }
            if (phase == ROWS) {
                Workspace ws = WORKSPACES.get();
                int ao = aOffsets == null ? aOff : aOff + aOffsets[0];
                for (int t = from; t < to; t++) {
                    int ic = t * blockRows;
                    block(ws, panel, ao, cOff, ic, Math.min(blockRows, m - ic), jc, nc, p0, kc);
                }
                return;
            }
            Workspace ws = WORKSPACES.get();
            int perBatch = tilesM * tilesN;
            if (thin) {
                // adjacent column chunks of one batch in one pass (a pool that runs the call inline hands over all)
                for (int t = from; t < to; ) {
                    int bi = t / perBatch, end = Math.min(to, (bi + 1) * perBatch);
                    int ao = aOffsets == null ? aOff : aOff + aOffsets[bi];
                    int bo = bOffsets == null ? bOff : bOff + bOffsets[bi];
                    int j0 = (t - bi * perBatch) * nTile, j1 = Math.min(n, (end - bi * perBatch) * nTile);
                    GemmThin.columns(this, ws, ao, bo, cOff + bi * cStride, j0, j1);
                    t = end;
                }
                return;
            }
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
            for (int jc = j0; jc < j1; jc += NC) {
                int nc = Math.min(NC, j1 - jc);
                for (int p0 = 0; p0 < k; p0 += KC) {
                    int kc = Math.min(KC, k - p0);
                    float[] pb = ws.packedB();
                    packB(pb, bo, p0, kc, jc, nc, 0, nc);
                    for (int ic = i0; ic < i1; ic += MC) block(ws, pb, ao, co, ic, Math.min(MC, i1 - ic), jc, nc, p0, kc);
                }
            }
        }

        // rows [ic, ic + mc) of C's columns [jc, jc + nc) (+)= op(A)[rows, p0..p0+kc) · the packed B panel; the
        // epilogue after the last K slice
        private void block(Workspace ws, float[] pb, int ao, int co, int ic, int mc, int jc, int nc, int p0, int kc) {
            boolean epilogue = bias != null || act != Epilogue.Activation.NONE;
            boolean add = accumulate || p0 > 0, last = p0 + kc >= k;
            // Row-major A is read in place: the kernel's six row streams are as fast as a packed
            // sliver once in L1, and packing cost a tenth of M1's training time (scalar gathers).
            // Transposed A, and the short last sliver (zero rows keep the kernel branch-free), are packed.
            int direct = transA ? 0 : mc / MR * MR;
            if (direct < mc) packA(ws.packedA(), ao, p0, kc, ic + direct, mc - direct);
            for (int jr = 0; jr < nc; jr += NR) {
                int cols = Math.min(NR, nc - jr);
                for (int ir = 0; ir < mc; ir += MR) {
                    int rows = Math.min(MR, mc - ir), at = co + (ic + ir) * ldc + jc + jr;
                    if (ir < direct) {
                        MicroKernel.packed(kc, a, ao + (ic + ir) * lda + p0, lda, pb, (jr / NR) * NR * kc, c, at, ldc, rows, cols, add, ws.tile);
                    } else {
                        MicroKernel.packed(kc, ws.packedA(), (ir - direct) * kc, kc, pb, (jr / NR) * NR * kc, c, at, ldc, rows, cols, add, ws.tile);
                    }
                    if (last && epilogue) {
                        int bAt = biasOff + (jc + jr) * biasStride;
                        for (int r = 0; r < rows; r++) epilogue(c, at + r * ldc, cols, bias, bAt, biasStride, act);
                    }
                }
            }
        }

        // dst: ⌈nc/NR⌉ slivers, each kc rows of NR floats: dst[s·NR·kc + p·NR + jj] = op(B)[p0+p, j0+s·NR+jj]
        // (slivers from js0 to js1 only: the threads that share a panel pack parts of it)
        private void packB(float[] dst, int bo, int p0, int kc, int j0, int nc, int js0, int js1) {
            for (int js = js0; js < js1; js += NR) {
                int base = (js / NR) * NR * kc, cols = Math.min(NR, nc - js), j = j0 + js;
                if (!transB) {
                    if (cols == NR) {
                        for (int p = 0; p < kc; p++) {
                            int src = bo + (p0 + p) * ldb + j, d = base + p * NR;
                            FloatVector.fromArray(SPECIES, b, src).intoArray(dst, d);
                            FloatVector.fromArray(SPECIES, b, src + VL).intoArray(dst, d + VL);
                        }
                    } else {
                        for (int p = 0; p < kc; p++) {
                            int src = bo + (p0 + p) * ldb + j, d = base + p * NR;
                            System.arraycopy(b, src, dst, d, cols);
                            for (int jj = cols; jj < NR; jj++) dst[d + jj] = 0f;
                        }
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

        // dst: ⌈mc/MR⌉ slivers of MR rows of kc floats (row-major, as the kernel reads A in place):
        // dst[s·MR·kc + r·kc + p] = op(A)[i0+s·MR+r, p0+p]; rows past mc are zero
        private void packA(float[] dst, int ao, int p0, int kc, int i0, int mc) {
            for (int is = 0; is < mc; is += MR) {
                int base = (is / MR) * MR * kc, rows = Math.min(MR, mc - is), i = i0 + is;
                if (!transA) {
                    for (int r = 0; r < rows; r++) System.arraycopy(a, ao + (i + r) * lda + p0, dst, base + r * kc, kc);
                } else if (rows == MR) {
                    // six row streams written together, six adjacent floats of A read per p
                    int d0 = base, d1 = d0 + kc, d2 = d1 + kc, d3 = d2 + kc, d4 = d3 + kc, d5 = d4 + kc;
                    for (int p = 0, src = ao + p0 * lda + i; p < kc; p++, src += lda) {
                        dst[d0 + p] = a[src]; dst[d1 + p] = a[src + 1]; dst[d2 + p] = a[src + 2];
                        dst[d3 + p] = a[src + 3]; dst[d4 + p] = a[src + 4]; dst[d5 + p] = a[src + 5];
                    }
                } else {
                    for (int p = 0; p < kc; p++) {
                        int src = ao + (p0 + p) * lda + i, d = base + p;
                        for (int r = 0; r < rows; r++) dst[d + r * kc] = a[src + r];
                    }
                }
                for (int r = rows; r < MR; r++) java.util.Arrays.fill(dst, base + r * kc, base + (r + 1) * kc, 0f);
            }
        }
    }

    /**
     * y[off + j] = act(y[off + j] + bias[bOff + j·bStride]) for j in [0, len); bias null adds nothing.
     * Called on output rows that are hot in L1. Same formulas as {@link GemmScalar#epilogue}: relu maps NaN to 0.
     */
    static void epilogue(float[] y, int off, int len, float[] bias, int bOff, int bStride, Epilogue.Activation act) {
        int j = 0, bound = SPECIES.loopBound(len);
        FloatVector zero = FloatVector.zero(SPECIES);
        boolean relu = act == Epilogue.Activation.RELU;
        if (bias != null && bStride == 1) {
            if (relu) {
                for (; j < bound; j += VL) {
                    FloatVector v = FloatVector.fromArray(SPECIES, y, off + j).add(FloatVector.fromArray(SPECIES, bias, bOff + j));
                    zero.blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(y, off + j);
                }
            } else {
                for (; j < bound; j += VL) {
                    FloatVector.fromArray(SPECIES, y, off + j).add(FloatVector.fromArray(SPECIES, bias, bOff + j)).intoArray(y, off + j);
                }
            }
        } else {
            FloatVector bv = FloatVector.broadcast(SPECIES, bias == null ? 0f : bias[bOff]);
            if (relu) {
                for (; j < bound; j += VL) {
                    FloatVector v = FloatVector.fromArray(SPECIES, y, off + j).add(bv);
                    zero.blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(y, off + j);
                }
            } else if (bias != null) {
                for (; j < bound; j += VL) FloatVector.fromArray(SPECIES, y, off + j).add(bv).intoArray(y, off + j);
            } else {
                j = bound;
            }
        }
        for (; j < len; j++) {
            float v = y[off + j] + (bias == null ? 0f : bias[bOff + j * bStride]);
            y[off + j] = relu ? (v > 0 ? v : 0f) : v;
        }
        switch (act) {
            case NONE, RELU -> { }
            case SIGMOID -> sigmoid(y, off, len);
            case TANH -> tanh(y, off, len);
        }
    }

    // VectorElementwise's formulas, kept here rather than called: sharing that kernel's call sites with the
    // epilogue's short rows pollutes its profile, and C2 then gave up on compiling it (seen as allocation)
    private static void sigmoid(float[] y, int off, int len) {
        int j = 0, bound = SPECIES.loopBound(len);
        FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        for (; j < bound; j += VL) {
            FloatVector v = FloatVector.fromArray(SPECIES, y, off + j);
            FloatVector e = v.abs().neg().lanewise(VectorOperators.EXP);
            FloatVector r = one.div(one.add(e));
            r.blend(e.mul(r), v.compare(VectorOperators.LT, 0f)).intoArray(y, off + j);
        }
        for (; j < len; j++) y[off + j] = ScalarElementwise.apply(dev.kiln.graph.UnaryFn.SIGMOID, y[off + j]);
    }

    private static void tanh(float[] y, int off, int len) {
        int j = 0, bound = SPECIES.loopBound(len);
        for (; j < bound; j += VL) FloatVector.fromArray(SPECIES, y, off + j).lanewise(VectorOperators.TANH).intoArray(y, off + j);
        for (; j < len; j++) y[off + j] = ScalarElementwise.apply(dev.kiln.graph.UnaryFn.TANH, y[off + j]);
    }

    static int divUp(int a, int b) { return (a + b - 1) / b; }

    static int roundUp(int a, int b) { return divUp(a, b) * b; }

    /** Per-thread pack buffers, sized for the largest block, and the thin path's row scratch. */
    static final class Workspace {
        // The packing buffers (4.2 MB) are made on the first packed GEMM of the thread, not with the workspace: a
        // thread that only runs thin GEMMs (a service's caller threads predicting one row each) never holds them.
        private float[] a, b;
        final float[] tile = new float[MR * NR];
        final GemmThin.Edges edges = new GemmThin.Edges();
        float[] row = new float[0];

        // the heap segments of the last few B operands seen on this thread, for Addresses.floatPhase without allocating
        // (M1 has three weight matrices on the thin path; a miss allocates one small segment)
        private final float[][] segArrays = new float[8][];
        private final java.lang.foreign.MemorySegment[] segs = new java.lang.foreign.MemorySegment[8];
        private int segNext;

        /** MemorySegment.ofArray(x), reused while x is among the last eight arrays asked for on this thread. */
        java.lang.foreign.MemorySegment segment(float[] x) {
            for (int i = 0; i < segArrays.length; i++) if (segArrays[i] == x) return segs[i];
            int i = segNext;
            segNext = (i + 1) % segArrays.length;
            segArrays[i] = x;
            return segs[i] = java.lang.foreign.MemorySegment.ofArray(x);
        }

        float[] packedA() { return a != null ? a : (a = new float[MC * KC]); }
        float[] packedB() { return b != null ? b : (b = new float[KC * NC]); }

        /** A scratch row of at least {@code size} floats; grows (allocates) only when a larger K first appears. */
        float[] row(int size) {
            if (row.length < size) row = new float[size];
            return row;
        }
    }
}
