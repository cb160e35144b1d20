package dev.kiln.cpu;

import dev.kiln.graph.MatMul;
import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * The sizes and per-batch operand offsets of one batched {@link MatMul}, resolved once so that each call
 * is a plain loop of GEMMs. A: [..., M, K] (or [..., K, M] when transposed), B: [..., K, N] (or [..., N, K]),
 * C: [broadcast(batchA, batchB)..., M, N], all row-major and contiguous; batch axes of size 1 broadcast.
 *
 * <pre>{@code
 * MatMulPlan plan = MatMulPlan.of(Shape.of(8, 64, 32), Shape.of(32, 16), false, false);
 * Gemm.matmul(pool, plan, a, 0, b, 0, c, 0);   // c: [8, 64, 16]
 * }</pre>
 *
 * When B has no batch (and A is not transposed) the batch folds into M: one [8·64, 32]·[32, 16] GEMM.
 */
public final class MatMulPlan {
    final boolean transA, transB;
    final int m, n, k, lda, ldb, ldc;
    final int batches;
    final int[] aOffsets, bOffsets;   // element offsets of each batch's matrix, length batches
    final int cStride;                // elements between consecutive C matrices
    private final Shape outputShape;

    private MatMulPlan(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int batches,
                       int[] aOffsets, int[] bOffsets, Shape outputShape) {
        this.transA = transA;
        this.transB = transB;
        this.m = m;
        this.n = n;
        this.k = k;
        this.lda = lda;
        this.ldb = ldb;
        this.ldc = n;
        this.batches = batches;
        this.aOffsets = aOffsets;
        this.bOffsets = bOffsets;
        this.cStride = m * n;
        this.outputShape = outputShape;
    }

    public static MatMulPlan of(Shape a, Shape b, boolean transA, boolean transB) {
        Shape out = new MatMul(transA, transB).inferShape(List.of(a, b));
        int m = out.dim(-2), n = out.dim(-1);
        int k = transA ? a.dim(-2) : a.dim(-1);
        int lda = transA ? m : k, ldb = transB ? k : n;
        Shape batch = MatMul.batchOf(out), batchA = MatMul.batchOf(a), batchB = MatMul.batchOf(b);
        int batches = batch.size();
        if (batches > 1 && batchB.size() == 1 && !transA) {
            // A's batch is C's batch and A is [batches·M, K] row-major: one tall GEMM does it all
            return new MatMulPlan(false, transB, batches * m, n, k, lda, ldb, 1, new int[] {0}, new int[] {0}, out);
        }
        int[] aOffsets = new int[batches], bOffsets = new int[batches];
        int[] sa = broadcastStrides(batchA, batch, a.dim(-2) * a.dim(-1));
        int[] sb = broadcastStrides(batchB, batch, b.dim(-2) * b.dim(-1));
        int rank = batch.rank();
        for (int bi = 0; bi < batches; bi++) {
            int rest = bi, oa = 0, ob = 0;
            for (int ax = rank - 1; ax >= 0; ax--) {
                int d = batch.dim(ax), idx = rest % d;
                rest /= d;
                oa += idx * sa[ax];
                ob += idx * sb[ax];
            }
            aOffsets[bi] = oa;
            bOffsets[bi] = ob;
        }
        return new MatMulPlan(transA, transB, m, n, k, lda, ldb, batches, aOffsets, bOffsets, out);
    }

    // strides of `operand`'s batch axes, aligned right against `batch`; 0 where the operand broadcasts
    private static int[] broadcastStrides(Shape operand, Shape batch, int matrixSize) {
        int[] s = new int[batch.rank()];
        int stride = matrixSize;
        for (int ax = batch.rank() - 1, oax = operand.rank() - 1; ax >= 0; ax--, oax--) {
            int d = oax >= 0 ? operand.dim(oax) : 1;
            s[ax] = d == 1 ? 0 : stride;
            stride *= d;
        }
        return s;
    }

    public Shape outputShape() { return outputShape; }

    /** Rows of each GEMM (the whole batch's rows when it folded into M). */
    public int m() { return m; }
    public int n() { return n; }
    public int k() { return k; }
    /** GEMMs per call. */
    public int batches() { return batches; }

    @Override public String toString() {
        return "MatMulPlan[" + batches + " × (" + m + "×" + k + (transA ? "ᵀ" : "") + ") · (" + k + "×" + n + (transB ? "ᵀ" : "") + ")]";
    }
}
