package dev.kiln.cuda.ffi;

import dev.kiln.cuda.CudaException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * cuBLAS through {@link CudaApis#CUBLAS}: a handle and the GEMMs the backend needs (fp32, and bf16/fp16 operands with f32 results). cuBLAS is
 * column-major; a row-major C = A·B is computed as Cᵀ = Bᵀ·Aᵀ (swap the operands, keep the
 * dimensions). Failures throw {@link CudaException} with cublasGetStatusName/String.
 *
 * <pre>{@code
 * try (Cublas blas = Cublas.load(Arena.global()).orElseThrow().create()) { blas.sgemm(...); }
 * }</pre>
 */
public final class Cublas {
    public static final int OP_N = 0, OP_T = 1;
    /** cublasMath_t (cublas_api.h): exact f32, and TF32 tensor cores for f32 GEMMs. */
    public static final int CUBLAS_DEFAULT_MATH = 0, CUBLAS_TF32_TENSOR_OP_MATH = 3;
    /** cudaDataType (library_types.h): the 16-bit operand types of {@link Handle#gemmEx}, and its f32 result. */
    public static final int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14;
    /** cublasComputeType_t and cublasGemmAlgo_t (cublas_api.h): f32 accumulation, cuBLAS's own choice of kernel. */
    public static final int CUBLAS_COMPUTE_32F = 68, CUBLAS_GEMM_DEFAULT = -1;
    private static final int CUBLAS_STATUS_SUCCESS = 0;

    private final CFunctions.Bound lib;

    private Cublas(CFunctions.Bound lib) { this.lib = lib; }

    public static Optional<Cublas> load(Arena arena) {
        return SharedLibrary.find(CudaApis.CUBLAS_SONAMES, arena).library().map(Cublas::bind);
    }

    public static Cublas bind(SharedLibrary libcublas) { return new Cublas(CudaApis.CUBLAS.bind(libcublas)); }

    /** A cuBLAS handle on the current context; close it to destroy it. */
    public Handle create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(lib.status("cublasCreate_v2", out), "cublasCreate_v2");
            return new Handle(out.get(ADDRESS, 0));
        }
    }

    public final class Handle implements AutoCloseable, Sgemm {
        private final MemorySegment handle;
        private int mathMode = CUBLAS_DEFAULT_MATH;   // a new handle's mode

        private Handle(MemorySegment handle) { this.handle = handle; }

        /** Unverified on hardware: written against cuBLAS 12's documented cublasSetMathMode and enum values. */
        @Override public void setTensorOpMath(boolean on) {
            int mode = on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
            if (mode == mathMode) return;
            check(lib.status("cublasSetMathMode", handle, mode), "cublasSetMathMode");
            mathMode = mode;
        }

        @Override public void setStream(long stream) { check(lib.status("cublasSetStream_v2", handle, MemorySegment.ofAddress(stream)), "cublasSetStream_v2"); }

        /** C = alpha·op(A)·op(B) + beta·C, column-major, device pointers. */
        @Override public void sgemm(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
            try (Arena arena = Arena.ofConfined()) {
                check(lib.status("cublasSgemm_v2", handle, transA, transB, m, n, k, arena.allocateFrom(JAVA_FLOAT, alpha),
                        MemorySegment.ofAddress(a), lda, MemorySegment.ofAddress(b), ldb, arena.allocateFrom(JAVA_FLOAT, beta),
                        MemorySegment.ofAddress(c), ldc), "cublasSgemm_v2");
            }
        }

        /** {@link #sgemm} over {@code batch} matrices at fixed element strides. */
        @Override public void sgemmStridedBatched(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                                        long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch) {
            try (Arena arena = Arena.ofConfined()) {
                check(lib.status("cublasSgemmStridedBatched", handle, transA, transB, m, n, k, arena.allocateFrom(JAVA_FLOAT, alpha),
                        MemorySegment.ofAddress(a), lda, strideA, MemorySegment.ofAddress(b), ldb, strideB, arena.allocateFrom(JAVA_FLOAT, beta),
                        MemorySegment.ofAddress(c), ldc, strideC, batch), "cublasSgemmStridedBatched");
            }
        }

        /** Unverified on hardware: written against cuBLAS 12's documented cublasGemmEx / cublasGemmStridedBatchedEx. */
        @Override public void gemmEx(int type, int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                                     long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment al = arena.allocateFrom(JAVA_FLOAT, alpha), be = arena.allocateFrom(JAVA_FLOAT, beta);
                MemorySegment pa = MemorySegment.ofAddress(a), pb = MemorySegment.ofAddress(b), pc = MemorySegment.ofAddress(c);
                if (batch == 1) {
                    check(lib.status("cublasGemmEx", handle, transA, transB, m, n, k, al, pa, type, lda, pb, type, ldb, be, pc, CUDA_R_32F, ldc,
                            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT), "cublasGemmEx");
                } else {
                    check(lib.status("cublasGemmStridedBatchedEx", handle, transA, transB, m, n, k, al, pa, type, lda, strideA, pb, type, ldb, strideB,
                            be, pc, CUDA_R_32F, ldc, strideC, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT), "cublasGemmStridedBatchedEx");
                }
            }
        }

        @Override public void close() { check(lib.status("cublasDestroy_v2", handle), "cublasDestroy_v2"); }
    }

    /** Throws {@link CudaException} with cuBLAS's status name and text unless {@code status} is CUBLAS_STATUS_SUCCESS. */
    public void check(int status, String call) {
        if (status == CUBLAS_STATUS_SUCCESS) return;
        throw new CudaException(call, status, string("cublasGetStatusName", status), string("cublasGetStatusString", status));
    }

    private String string(String fn, int status) {
        if (!lib.has(fn)) return "cuBLAS status " + status;
        MemorySegment s = lib.pointer(fn, status);
        return s.equals(MemorySegment.NULL) ? "cuBLAS status " + status : s.reinterpret(4096).getString(0);
    }
}
