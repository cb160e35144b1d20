package dev.kiln.cpu;

/**
 * The scalar twin of {@link Gemm}: the definition C[i,j] = Σ_p op(A)[i,p]·op(B)[p,j] (+ C[i,j]), in plain loops.
 * It needs no Vector API, and it is what the tests hold the fast kernel to.
 */
public final class GemmScalar {
    private GemmScalar() {}

    public static void gemm(boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    float aip = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bpj = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += aip * bpj;
                }
                int at = cOff + i * ldc + j;
                c[at] = accumulate ? c[at] + sum : sum;
            }
        }
    }

    /** C = op(A)·op(B) for every batch of {@code plan}. */
    public static void matmul(MatMulPlan plan, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        for (int bi = 0; bi < plan.batches; bi++) {
            gemm(plan.transA, plan.transB, plan.m, plan.n, plan.k, a, aOff + plan.aOffsets[bi], plan.lda,
                 b, bOff + plan.bOffsets[bi], plan.ldb, c, cOff + bi * plan.cStride, plan.ldc, false);
        }
    }
}
