package dev.kiln.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GEMM for a few output rows (batch-1 inference, and n = 1 problems transposed into that form): each row of C
 * is computed straight from the operands, with no packing. Twin: {@link GemmScalar}.
 *
 * <ul>
 *   <li>B [K, N] (not transposed): C[i, :] += Σ_{q<4} A[i, p+q] · B[p+q, :], four rows of B per sweep of the
 *       C rows, so B is read once, row after row (the GEMV's "axpy" form).</li>
 *   <li>Bᵀ stored [N, K]: C[i, j] = A[i, :] · B[j, :], four columns at a time, vectors along K, then
 *       {@code reduceLanes} (the dot-product form). A's row is copied to a contiguous scratch row when it is
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
        boolean epilogue = job.bias != null || job.act != dev.kiln.graph.Linear.Activation.NONE;
        if (!job.transB) axpyRows(job, ao, bo, co, j0, j1);
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
            float[] lanes = ws.lanes;
            s0.intoArray(lanes, 0); s1.intoArray(lanes, L); s2.intoArray(lanes, 2 * L); s3.intoArray(lanes, 3 * L);
            float t0 = sumLanes(lanes, 0), t1 = sumLanes(lanes, L), t2 = sumLanes(lanes, 2 * L), t3 = sumLanes(lanes, 3 * L);
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
            s0.intoArray(ws.lanes, 0);
            float t0 = sumLanes(ws.lanes, 0);
            for (; p < k; p++) t0 += a[ar + p] * b[b0 + p];
            c[ci + j] = add ? c[ci + j] + t0 : t0;
        }
    }

    /**
     * The lanes of one accumulator summed in a fixed order. Not {@code reduceLanes}: its order differs between the
     * interpreter's fallback and C2's intrinsic, and a column's value must not depend on which loop, thread or
     * compilation tier computed it.
     */
    private static float sumLanes(float[] lanes, int off) {
        float s = 0f;
        for (int i = 0; i < L; i++) s += lanes[off + i];
        return s;
    }
}
