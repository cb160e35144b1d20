package dev.kiln.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GEMM for a few output rows (batch-1 inference, and n = 1 problems transposed into that form): each row of C
 * is computed straight from the operands, with no packing. Twin: {@link GemmScalar}.
 *
 * <ul>
 *   <li>B [K, N] (not transposed): C[i, :] += Σ_{q<4} A[i, p+q] · B[p+q, :], four rows of B per sweep of the
 *       C rows, so B is read once, row after row (the GEMV's "axpy" form). One row of C (batch-1 inference)
 *       instead keeps up to nine vectors of C in registers over all of K, with B loads starting on cache lines
 *       ({@link #rowInRegisters}).</li>
 *   <li>Bᵀ stored [N, K]: C[i, j] = A[i, :] · B[j, :], four columns at a time, vectors along K, then
 *       a fixed-order lane sum ({@link LaneSum}; the dot-product form). A's row is copied to a contiguous scratch row when it is
 *       strided.</li>
 * </ul>
 * Cost is one pass over the part of B a task owns, so it is bound by the bandwidth of wherever B lives.
 */
final class GemmThin {
    private static final VectorSpecies<Float> S = Gemm.SPECIES;
    private static final int L = S.length();

    private GemmThin() {}

    /** Rows [0, job.m) of C, columns [j0, j1), for one batch at the given operand offsets; then the epilogue. */
    static void columns(Gemm.Job job, Gemm.Workspace ws, int ao, int bo, int co, int j0, int j1) {
        boolean epilogue = job.bias != null || job.act != dev.kiln.graph.Epilogue.Activation.NONE;
        if (!job.transB) {
            if (job.m == 1 && j1 - j0 >= L) rowInRegisters(job, ws, ao, bo, co, j0, j1);
            else axpyRows(job, ao, bo, co, j0, j1);
        }
        for (int i = 0; i < job.m; i++) {
            int ci = co + i * job.ldc;
            if (job.transB) dotRow(job, ws, ao, bo, ci, i, j0, j1);
            if (epilogue) Gemm.epilogue(job.c, ci + j0, j1 - j0, job.bias, job.biasOff + j0 * job.biasStride, job.biasStride, job.act);
        }
    }

    /**
     * c[ci + j] (+)= Σ_p a(i,p) · b[bo + p·ldb + j] for every row i, j in [j0, j1). B is walked four rows at a
     * time, each row a sequential stream, so the hardware prefetchers keep up when B comes from L3; the C rows
     * (a few KiB) stay in L1. Each C element sees the same chain of fmas, in p order, whichever loop computes it.
     */
    private static void axpyRows(Gemm.Job job, int ao, int bo, int co, int j0, int j1) {
        float[] a = job.a, b = job.b, c = job.c;
        int k = job.k, ldb = job.ldb, m = job.m, ldc = job.ldc;
        // a(i, p) = a[aRow(i) + p·aStride]
        int aStride = job.transA ? job.lda : 1, aRowStride = job.transA ? 1 : job.lda;
        int bound = j0 + S.loopBound(j1 - j0);
        int p = 0;
        for (; p + 4 <= k; p += 4) {
            boolean fresh = p == 0 && !job.accumulate;
            int b0 = bo + p * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            for (int i = 0; i < m; i++) {
                int ap = ao + i * aRowStride + p * aStride, ci = co + i * ldc;
                float x0 = a[ap], x1 = a[ap + aStride], x2 = a[ap + 2 * aStride], x3 = a[ap + 3 * aStride];
                FloatVector v0 = FloatVector.broadcast(S, x0), v1 = FloatVector.broadcast(S, x1);
                FloatVector v2 = FloatVector.broadcast(S, x2), v3 = FloatVector.broadcast(S, x3);
                int j = j0;
                for (; j < bound; j += L) {
                    FloatVector acc = fresh ? FloatVector.zero(S) : FloatVector.fromArray(S, c, ci + j);
                    acc = v0.fma(FloatVector.fromArray(S, b, b0 + j), acc);
                    acc = v1.fma(FloatVector.fromArray(S, b, b1 + j), acc);
                    acc = v2.fma(FloatVector.fromArray(S, b, b2 + j), acc);
                    acc = v3.fma(FloatVector.fromArray(S, b, b3 + j), acc);
                    acc.intoArray(c, ci + j);
                }
                for (; j < j1; j++) {
                    float acc = fresh ? 0f : c[ci + j];
                    acc = Math.fma(x0, b[b0 + j], acc);
                    acc = Math.fma(x1, b[b1 + j], acc);
                    acc = Math.fma(x2, b[b2 + j], acc);
                    c[ci + j] = Math.fma(x3, b[b3 + j], acc);
                }
            }
        }
        for (; p < k; p++) {
            boolean fresh = p == 0 && !job.accumulate;
            int b0 = bo + p * ldb;
            for (int i = 0; i < m; i++) {
                int ci = co + i * ldc;
                float x0 = a[ao + i * aRowStride + p * aStride];
                FloatVector v0 = FloatVector.broadcast(S, x0);
                int j = j0;
                for (; j < bound; j += L) {
                    FloatVector acc = fresh ? FloatVector.zero(S) : FloatVector.fromArray(S, c, ci + j);
                    v0.fma(FloatVector.fromArray(S, b, b0 + j), acc).intoArray(c, ci + j);
                }
                for (; j < j1; j++) c[ci + j] = Math.fma(x0, b[b0 + j], fresh ? 0f : c[ci + j]);
            }
        }
    }

    /**
     * One row of C (m = 1, B not transposed, at least one vector of columns): c[co + j] (+)= Σ_p a(0,p) · b[bo + p·ldb + j].
     * The axpy form loads and stores the C row once per four rows of B; here a group of up to nine vectors of C stays
     * in registers for all K rows and is stored once, so the loop does only B loads and fmas. Each element still sees
     * one fma chain in p order from 0 (or from C when accumulating), so results are bit-identical to
     * {@link #axpyRows} and to the scalar twin's order, whatever the grouping, the alignment or the thread split.
     *
     * <p>The vectors are laid out so that B loads start on 64-byte lines (see {@link Addresses}: a 512-bit load across
     * a line costs two): when every row of B has the same phase (ldb a multiple of 16 floats), a head vector at j0
     * covers the {@code phase} columns before the first line boundary, full aligned vectors follow, and a tail vector
     * ending at j1 covers what is left. Head and tail overlap their aligned neighbours; they read C (when accumulating)
     * before anything is stored and write back only their own lanes, so the overlap changes nothing.
     */
    private static void rowInRegisters(Gemm.Job job, Gemm.Workspace ws, int ao, int bo, int co, int j0, int j1) {
        int phase = job.ldb % 16 == 0 ? Math.max(0, Addresses.floatPhase(ws.segment(job.b), bo + j0)) : 0;
        Edges e = ws.edges;
        e.j0 = j0; e.j1 = j1;
        e.head = phase > 0 ? 1 : 0;
        e.start = j0 + phase;
        e.aligned = (j1 - e.start) / L;
        e.tailLo = j1 - (e.start + e.aligned * L) == 0 ? L : L - (j1 - (e.start + e.aligned * L));
        int vectors = e.head + e.aligned + (e.tailLo < L ? 1 : 0);
        e.vectors = vectors;
        int v = 0;
        // nine accumulators when eight would leave one vector over (the head/tail peel makes that common), else eights,
        // then one padded group of four or eight for the rest (padding repeats the last vector: extra L1 loads only)
        if (vectors % 8 == 1 && vectors >= 9) { group9(job, e, ao, bo, co, v); v += 9; }
        for (; v + 8 <= vectors; v += 8) group8(job, e, ao, bo, co, v);
        if (vectors - v > 4) group8(job, e, ao, bo, co, v);
        else if (vectors > v) group4(job, e, ao, bo, co, v);
    }

    /** The vector layout of one {@link #rowInRegisters} call: head, aligned run, tail. Per-thread scratch, no allocation. */
    static final class Edges {
        int j0, j1, head, start, aligned, tailLo, vectors;
        final float[] acc = new float[9 * Gemm.VL];

        /** Column of vector v (v past the last repeats the last). */
        int col(int v) {
            v = Math.min(v, vectors - 1);
            if (v < head) return j0;
            int idx = v - head;
            return idx < aligned ? start + idx * L : j1 - L;
        }

        /**
         * Copies vectors [v, v + count) of a group from {@link #acc} (vector q at q·L) to C, each only its own lanes:
         * all for aligned ones, [0, phase) for the head, [tailLo, L) for the tail; padding repeats are skipped. The
         * accumulators go through this array, not as arguments: a vector passed to a call C2 does not inline is boxed.
         */
        void flush(int v, int count, float[] c, int co) {
            for (int q = 0; q < count && v + q < vectors; q++) {
                int w = v + q, lo = 0, hi = L;
                if (w < head) hi = start - j0;
                else if (w - head >= aligned) lo = tailLo;
                System.arraycopy(acc, q * L + lo, c, co + col(w) + lo, hi - lo);
            }
        }
    }

    private static void group4(Gemm.Job job, Edges e, int ao, int bo, int co, int v) {
        float[] a = job.a, b = job.b;
        int k = job.k, ldb = job.ldb, as = job.transA ? job.lda : 1;
        // accumulators start from C or zero in this method (a vector returned by a call C2 does not inline is boxed)
        float[] c = job.c;
        boolean add = job.accumulate;
        FloatVector z = FloatVector.zero(S);
        int o0 = e.col(v), o1 = e.col(v + 1), o2 = e.col(v + 2), o3 = e.col(v + 3);
        FloatVector c0 = add ? FloatVector.fromArray(S, c, co + o0) : z, c1 = add ? FloatVector.fromArray(S, c, co + o1) : z;
        FloatVector c2 = add ? FloatVector.fromArray(S, c, co + o2) : z, c3 = add ? FloatVector.fromArray(S, c, co + o3) : z;
        for (int p = 0; p < k; p++) {
            FloatVector x = FloatVector.broadcast(S, a[ao + p * as]);
            int bp = bo + p * ldb;
            c0 = x.fma(FloatVector.fromArray(S, b, bp + o0), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bp + o1), c1);
            c2 = x.fma(FloatVector.fromArray(S, b, bp + o2), c2);
            c3 = x.fma(FloatVector.fromArray(S, b, bp + o3), c3);
        }
        c0.intoArray(e.acc, 0); c1.intoArray(e.acc, L); c2.intoArray(e.acc, 2 * L); c3.intoArray(e.acc, 3 * L);
        e.flush(v, 4, c, co);
    }

    private static void group8(Gemm.Job job, Edges e, int ao, int bo, int co, int v) {
        float[] a = job.a, b = job.b;
        int k = job.k, ldb = job.ldb, as = job.transA ? job.lda : 1;
        // accumulators start from C or zero in this method (a vector returned by a call C2 does not inline is boxed)
        float[] c = job.c;
        boolean add = job.accumulate;
        FloatVector z = FloatVector.zero(S);
        int o0 = e.col(v), o1 = e.col(v + 1), o2 = e.col(v + 2), o3 = e.col(v + 3);
        int o4 = e.col(v + 4), o5 = e.col(v + 5), o6 = e.col(v + 6), o7 = e.col(v + 7);
        FloatVector c0 = add ? FloatVector.fromArray(S, c, co + o0) : z, c1 = add ? FloatVector.fromArray(S, c, co + o1) : z;
        FloatVector c2 = add ? FloatVector.fromArray(S, c, co + o2) : z, c3 = add ? FloatVector.fromArray(S, c, co + o3) : z;
        FloatVector c4 = add ? FloatVector.fromArray(S, c, co + o4) : z, c5 = add ? FloatVector.fromArray(S, c, co + o5) : z;
        FloatVector c6 = add ? FloatVector.fromArray(S, c, co + o6) : z, c7 = add ? FloatVector.fromArray(S, c, co + o7) : z;
        for (int p = 0; p < k; p++) {
            FloatVector x = FloatVector.broadcast(S, a[ao + p * as]);
            int bp = bo + p * ldb;
            c0 = x.fma(FloatVector.fromArray(S, b, bp + o0), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bp + o1), c1);
            c2 = x.fma(FloatVector.fromArray(S, b, bp + o2), c2);
            c3 = x.fma(FloatVector.fromArray(S, b, bp + o3), c3);
            c4 = x.fma(FloatVector.fromArray(S, b, bp + o4), c4);
            c5 = x.fma(FloatVector.fromArray(S, b, bp + o5), c5);
            c6 = x.fma(FloatVector.fromArray(S, b, bp + o6), c6);
            c7 = x.fma(FloatVector.fromArray(S, b, bp + o7), c7);
        }
        c0.intoArray(e.acc, 0); c1.intoArray(e.acc, L); c2.intoArray(e.acc, 2 * L); c3.intoArray(e.acc, 3 * L);
        c4.intoArray(e.acc, 4 * L); c5.intoArray(e.acc, 5 * L); c6.intoArray(e.acc, 6 * L); c7.intoArray(e.acc, 7 * L);
        e.flush(v, 8, c, co);
    }

    private static void group9(Gemm.Job job, Edges e, int ao, int bo, int co, int v) {
        float[] a = job.a, b = job.b;
        int k = job.k, ldb = job.ldb, as = job.transA ? job.lda : 1;
        // accumulators start from C or zero in this method (a vector returned by a call C2 does not inline is boxed)
        float[] c = job.c;
        boolean add = job.accumulate;
        FloatVector z = FloatVector.zero(S);
        int o0 = e.col(v), o1 = e.col(v + 1), o2 = e.col(v + 2), o3 = e.col(v + 3);
        int o4 = e.col(v + 4), o5 = e.col(v + 5), o6 = e.col(v + 6), o7 = e.col(v + 7), o8 = e.col(v + 8);
        FloatVector c0 = add ? FloatVector.fromArray(S, c, co + o0) : z, c1 = add ? FloatVector.fromArray(S, c, co + o1) : z;
        FloatVector c2 = add ? FloatVector.fromArray(S, c, co + o2) : z, c3 = add ? FloatVector.fromArray(S, c, co + o3) : z;
        FloatVector c4 = add ? FloatVector.fromArray(S, c, co + o4) : z, c5 = add ? FloatVector.fromArray(S, c, co + o5) : z;
        FloatVector c6 = add ? FloatVector.fromArray(S, c, co + o6) : z, c7 = add ? FloatVector.fromArray(S, c, co + o7) : z;
        FloatVector c8 = add ? FloatVector.fromArray(S, c, co + o8) : z;
        for (int p = 0; p < k; p++) {
            FloatVector x = FloatVector.broadcast(S, a[ao + p * as]);
            int bp = bo + p * ldb;
            c0 = x.fma(FloatVector.fromArray(S, b, bp + o0), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bp + o1), c1);
            c2 = x.fma(FloatVector.fromArray(S, b, bp + o2), c2);
            c3 = x.fma(FloatVector.fromArray(S, b, bp + o3), c3);
            c4 = x.fma(FloatVector.fromArray(S, b, bp + o4), c4);
            c5 = x.fma(FloatVector.fromArray(S, b, bp + o5), c5);
            c6 = x.fma(FloatVector.fromArray(S, b, bp + o6), c6);
            c7 = x.fma(FloatVector.fromArray(S, b, bp + o7), c7);
            c8 = x.fma(FloatVector.fromArray(S, b, bp + o8), c8);
        }
        c0.intoArray(e.acc, 0); c1.intoArray(e.acc, L); c2.intoArray(e.acc, 2 * L); c3.intoArray(e.acc, 3 * L);
        c4.intoArray(e.acc, 4 * L); c5.intoArray(e.acc, 5 * L); c6.intoArray(e.acc, 6 * L); c7.intoArray(e.acc, 7 * L);
        c8.intoArray(e.acc, 8 * L);
        e.flush(v, 9, c, co);
    }

    // c[ci + j] (+)= Σ_p a(i,p) · b[bo + j·ldb + p], j in [j0, j1)
    private static void dotRow(Gemm.Job job, Gemm.Workspace ws, int ao, int bo, int ci, int i, int j0, int j1) {
        float[] a = job.a, b = job.b, c = job.c;
        int k = job.k, ldb = job.ldb;
        int ar;
        if (!job.transA || job.lda == 1) {
            ar = job.transA ? ao + i : ao + i * job.lda;
        } else {
            // A's row i is strided (Aᵀ stored [K, M]): gather it once, reuse it for every column
            float[] row = ws.row(k);
            for (int p = 0, src = ao + i; p < k; p++, src += job.lda) row[p] = a[src];
            a = row;
            ar = 0;
        }
        boolean add = job.accumulate;
        int bound = S.loopBound(k);
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            int b0 = bo + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            int p = 0;
            for (; p < bound; p += L) {
                FloatVector av = FloatVector.fromArray(S, a, ar + p);
                s0 = av.fma(FloatVector.fromArray(S, b, b0 + p), s0);
                s1 = av.fma(FloatVector.fromArray(S, b, b1 + p), s1);
                s2 = av.fma(FloatVector.fromArray(S, b, b2 + p), s2);
                s3 = av.fma(FloatVector.fromArray(S, b, b3 + p), s3);
            }
            float t0 = LaneSum.of(s0), t1 = LaneSum.of(s1), t2 = LaneSum.of(s2), t3 = LaneSum.of(s3);
            for (; p < k; p++) {
                float ap = a[ar + p];
                t0 += ap * b[b0 + p]; t1 += ap * b[b1 + p]; t2 += ap * b[b2 + p]; t3 += ap * b[b3 + p];
            }
            int at = ci + j;
            if (add) { t0 += c[at]; t1 += c[at + 1]; t2 += c[at + 2]; t3 += c[at + 3]; }
            c[at] = t0; c[at + 1] = t1; c[at + 2] = t2; c[at + 3] = t3;
        }
        for (; j < j1; j++) {
            int b0 = bo + j * ldb;
            FloatVector s0 = FloatVector.zero(S);
            int p = 0;
            for (; p < bound; p += L) s0 = FloatVector.fromArray(S, a, ar + p).fma(FloatVector.fromArray(S, b, b0 + p), s0);
            float t0 = LaneSum.of(s0);
            for (; p < k; p++) t0 += a[ar + p] * b[b0 + p];
            c[ci + j] = add ? c[ci + j] + t0 : t0;
        }
    }
}
