package dev.kiln.cuda.emu;

import dev.kiln.cuda.ffi.Cublas;
import dev.kiln.cuda.ffi.Sgemm;
import dev.kiln.graph.Rounding;

import java.lang.foreign.MemorySegment;

/**
 * The reference GEMM behind the {@link Sgemm} interface on the emulated device (cuBLAS is not
 * emulated): cuBLAS's column-major contract, operands copied out of device memory, each C element a
 * float sum over p = 0, 1, ..., k-1 in that order, copied back. Counts its calls.
 */
public final class ReferenceSgemm implements Sgemm {
    private final EmulatedDriver driver;
    private long calls, halfCalls, stream;
    private boolean tensorOps;

    public ReferenceSgemm(EmulatedDriver driver) { this.driver = driver; }

    public long calls() { return calls; }

    @Override public void setStream(long stream) { this.stream = stream; }

    /** With tensor-op math each operand is rounded to TF32 (ties to even) before the f32 products, as a tensor core reads it. */
    @Override public void setTensorOpMath(boolean on) { this.tensorOps = on; }

    /** Runs on the emulated device's stream order: recorded into a graph while the stream is captured, as cuBLAS calls are. */
    @Override public void sgemm(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        boolean tf32 = tensorOps;   // the mode at the call, as cuBLAS picks its kernel then (also when captured)
        driver.enqueue(stream, "sgemm", () -> compute(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, tf32));
    }

    private void compute(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb, float beta, long c, int ldc, boolean tf32) {
        calls++;
        float[] A = read(a, extent(transA == 0 ? m : k, transA == 0 ? k : m, lda));
        float[] B = read(b, extent(transB == 0 ? k : n, transB == 0 ? n : k, ldb));
        if (tf32) { roundTf32(A); roundTf32(B); }
        product(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, c, ldc);
    }

    /**
     * cublasGemmEx (cublasGemmStridedBatchedEx for batch > 1) with bf16 or fp16 operands and f32 accumulation: each
     * operand widened to f32 (exact), then the products and sums of {@link #sgemm}. No TF32 rounding: a 16-bit value
     * already is one. Counted apart from the f32 calls ({@link #halfCalls}).
     */
    @Override public void gemmEx(int type, int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                                 long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch) {
        if (type != Cublas.CUDA_R_16BF && type != Cublas.CUDA_R_16F) {
            throw new IllegalArgumentException("the reference gemmEx takes CUDA_R_16BF or CUDA_R_16F operands, not cudaDataType " + type);
        }
        for (int i = 0; i < batch; i++) {
            long ai = a + 2 * i * strideA, bi = b + 2 * i * strideB, ci = c + 4 * i * strideC;
            driver.enqueue(stream, "gemmEx", () -> {
                halfCalls++;
                float[] A = widen(type, ai, extent(transA == 0 ? m : k, transA == 0 ? k : m, lda));
                float[] B = widen(type, bi, extent(transB == 0 ? k : n, transB == 0 ? n : k, ldb));
                product(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, ci, ldc);
            });
        }
    }

    /** How many 16-bit products ({@link #gemmEx}, one per batch matrix) ran. */
    public long halfCalls() { return halfCalls; }

    private void product(int transA, int transB, int m, int n, int k, float alpha, float[] A, int lda, float[] B, int ldb, float beta, long c, int ldc) {
        float[] C = read(c, extent(m, n, ldc));
        // op(A) as rows of k and op(B) as columns of k, contiguous, so each dot product walks memory in order
        float[] rowsA = new float[m * k], colsB = new float[n * k];
        for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) rowsA[i * k + p] = transA == 0 ? A[i + p * lda] : A[p + i * lda];
        for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) colsB[j * k + p] = transB == 0 ? B[p + j * ldb] : B[j + p * ldb];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                float acc = 0f;
                for (int p = 0, ia = i * k, jb = j * k; p < k; p++) acc += rowsA[ia + p] * colsB[jb + p];
                C[i + j * ldc] = beta == 0f ? alpha * acc : alpha * acc + beta * C[i + j * ldc];
            }
        }
        driver.memcpyHtoD(c, MemorySegment.ofArray(C), 4L * C.length);
    }

    /** {@code n} 16-bit values of {@code type} from device memory, as floats (bf16: the high half of an f32; fp16: IEEE binary16). */
    private float[] widen(int type, long address, int n) {
        short[] h = new short[n];
        driver.deviceRead(MemorySegment.ofArray(h), address, 2L * n);   // the library's own read: not a copy to the host
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = type == Cublas.CUDA_R_16BF ? Float.intBitsToFloat(h[i] << 16) : Float.float16ToFloat(h[i]);
        return x;
    }

    @Override public void sgemmStridedBatched(int transA, int transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                                              long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch) {
        for (int i = 0; i < batch; i++) {
            sgemm(transA, transB, m, n, k, alpha, a + 4 * i * strideA, lda, b + 4 * i * strideB, ldb, beta, c + 4 * i * strideC, ldc);
        }
    }

    private static void roundTf32(float[] x) { for (int i = 0; i < x.length; i++) x[i] = Rounding.tf32(x[i]); }

    /** Elements a column-major rows×cols matrix with leading dimension ld spans. */
    private static int extent(int rows, int cols, int ld) { return ld * (cols - 1) + rows; }

    private float[] read(long address, int n) {
        float[] x = new float[n];
        driver.deviceRead(MemorySegment.ofArray(x), address, 4L * n);
        return x;
    }
}
