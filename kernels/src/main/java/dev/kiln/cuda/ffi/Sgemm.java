package dev.kiln.cuda.ffi;

/**
 * The fp32 GEMMs the CUDA backend calls, with cuBLAS's column-major signature and device pointers:
 * {@link Cublas.Handle} on a GPU; in kiln-cuda's tests a reference GEMM over the emulated device's
 * memory stands behind it. Row-major callers compute Cᵀ = Bᵀ·Aᵀ (see {@link Cublas}).
 */
public interface Sgemm {
    /** C = alpha·op(A)·op(B) + beta·C, column-major, {@code op} = {@link Cublas#OP_N} or {@link Cublas#OP_T}. */
    void sgemm(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc);

    /** {@link #sgemm} over {@code batch} matrices at fixed element strides (0 repeats one matrix). */
    void sgemmStridedBatched(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                             long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch);

    /** Orders later GEMMs on {@code stream} (cublasSetStream); a no-op where there are no streams. */
    default void setStream(long stream) {}
}
