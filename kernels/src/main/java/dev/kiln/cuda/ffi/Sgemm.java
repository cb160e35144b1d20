package dev.kiln.cuda.ffi;

/**
 * The GEMMs the CUDA backend calls (fp32, and 16-bit operands with f32 results), with cuBLAS's column-major signature and device pointers:
 * {@link Cublas.Handle} on a GPU; in kiln-cuda's tests a reference GEMM over the emulated device's
 * memory stands behind it. Row-major callers compute Cᵀ = Bᵀ·Aᵀ (see {@link Cublas}).
 */
public interface Sgemm {
    /** C = alpha·op(A)·op(B) + beta·C, column-major, {@code op} = {@link Cublas#OP_N} or {@link Cublas#OP_T}. */
    void sgemm(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc);

    /** {@link #sgemm} over {@code batch} matrices at fixed element strides (0 repeats one matrix). */
    void sgemmStridedBatched(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                             long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch);

    /**
     * C (f32) = alpha·op(A)·op(B) + beta·C with A and B stored in 16 bits, {@code type} {@link Cublas#CUDA_R_16BF} or
     * {@link Cublas#CUDA_R_16F}, accumulated in f32 (cuBLAS's cublasGemmEx, or cublasGemmStridedBatchedEx when
     * {@code batch} > 1, with CUBLAS_COMPUTE_32F): the products of "widen to f32, then {@link #sgemm}". Strides count elements.
     */
    void gemmEx(int type, int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch);

    /**
     * Whether later GEMMs may run on tensor cores with TF32 operands (cuBLAS's CUBLAS_TF32_TENSOR_OP_MATH) or must
     * be exact f32 (CUBLAS_DEFAULT_MATH). A program in bf16/fp16/tf32 has already rounded its operands to values
     * TF32 holds exactly, so tensor-op math then computes exactly the products the CPU emulates.
     */
    void setTensorOpMath(boolean on);

    /** Orders later GEMMs on {@code stream} (cublasSetStream); a no-op where there are no streams. */
    default void setStream(long stream) {}
}
