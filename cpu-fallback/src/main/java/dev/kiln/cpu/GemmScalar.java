package dev.kiln.cpu;

import dev.kiln.graph.Epilogue;

/**
 * The scalar twin of {@link Gemm}: the definition C[i,j] = act(Σ_p op(A)[i,p]·op(B)[p,j] (+ C[i,j]) + bias[j]),
 * in plain loops. It needs no Vector API, and it is what the tests hold the fast kernel to.
 */
public final class GemmScalar {
    private GemmScalar() {}

    public static void gemm(boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, null, 0, Epilogue.Activation.NONE);
    }

    /** As {@link Gemm#gemm(WorkerPool, boolean, boolean, int, int, int, float[], int, int, float[], int, int, float[], int, int, boolean, float[], int, Epilogue.Activation)}. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff, Epilogue.Activation act) {
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
            epilogue(c, cOff + i * ldc, n, bias, biasOff, act);
        }
    }

    /** y[off + j] = act(y[off + j] + bias[bOff + j]) for j in [0, len); bias null adds nothing. */
    static void epilogue(float[] y, int off, int len, float[] bias, int bOff, Epilogue.Activation act) {
        for (int j = 0; j < len; j++) {
            float v = y[off + j] + (bias == null ? 0f : bias[bOff + j]);
            y[off + j] = switch (act) {
                case NONE -> v;
                case RELU, SIGMOID, TANH -> ScalarElementwise.apply(act.fn(), v);
            };
        }
    }

    /** C = op(A)·op(B) for every batch of {@code plan}. */
    public static void matmul(MatMulPlan plan, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        matmul(plan, a, aOff, b, bOff, c, cOff, null, 0, Epilogue.Activation.NONE);
    }

    /** C = act(op(A)·op(B) + bias) for every batch of {@code plan}. */
    public static void matmul(MatMulPlan plan, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                              float[] bias, int biasOff, Epilogue.Activation act) {
        for (int bi = 0; bi < plan.batches; bi++) {
            gemm(plan.transA, plan.transB, plan.m, plan.n, plan.k, a, aOff + plan.aOffsets[bi], plan.lda,
                 b, bOff + plan.bOffsets[bi], plan.ldb, c, cOff + bi * plan.cStride, plan.ldc, false, bias, biasOff, act);
        }
    }
}
