package dev.kiln.cuda;

import dev.kiln.cuda.ffi.Cublas;
import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.ffi.CudaDriver.Dim3;
import dev.kiln.cuda.ffi.KernelArgs;
import dev.kiln.cuda.ffi.Sgemm;

/**
 * One call a compiled program makes on the device, bound once at compile time (device pointers,
 * scalars, launch geometry), so {@link #run} builds nothing. A program's launches are its
 * kernel list: what a CUDA graph capture of one step records, and what tests compare.
 */
sealed interface Launch {
    void run(CudaDriver driver, Sgemm gemm, long stream);

    /** "kiln_dropout_f32<<<128, 256>>>", "sgemm(N, T, 512, 256, 512)": for dumps and the kernel list. */
    String describe();

    /** A kernel of a module; {@link #function} is set when the module is loaded (generated kernels: after the program is lowered). */
    final class Kernel implements Launch {
        final String name;
        final Dim3 grid, block;
        final int sharedBytes;
        final KernelArgs args;
        long function;

        Kernel(String name, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
            this.name = name;
            this.grid = grid;
            this.block = block;
            this.sharedBytes = sharedBytes;
            this.args = args;
        }

        @Override public void run(CudaDriver driver, Sgemm gemm, long stream) {
            driver.launchKernel(function, grid, block, sharedBytes, stream, args);
        }

        /** "name<<<blocks, threads>>>", the grid as "(x, y, z)" when it has more than one dimension (the convolution tiles). */
        @Override public String describe() {
            String g = grid.y() == 1 && grid.z() == 1 ? String.valueOf(grid.x()) : "(" + grid.x() + ", " + grid.y() + ", " + grid.z() + ")";
            return name + "<<<" + g + ", " + block.x() + ">>>";
        }
    }

    /**
     * A row-major batched product as cuBLAS's column-major one (operands already swapped by the lowering). {@code type}
     * is the operands' storage: {@link Cublas#CUDA_R_32F} (sgemm), or {@link Cublas#CUDA_R_16BF} / {@link Cublas#CUDA_R_16F}
     * (gemmEx, f32 accumulation and output).
     */
    record Gemm(int type, int transA, int transB, int m, int n, int k, long a, int lda, long strideA, long b, int ldb, long strideB,
                long c, int ldc, long strideC, int batch) implements Launch {
        @Override public void run(CudaDriver driver, Sgemm gemm, long stream) {
            if (type != Cublas.CUDA_R_32F) gemm.gemmEx(type, transA, transB, m, n, k, 1f, a, lda, strideA, b, ldb, strideB, 0f, c, ldc, strideC, batch);
            else if (batch == 1) gemm.sgemm(transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
            else gemm.sgemmStridedBatched(transA, transB, m, n, k, 1f, a, lda, strideA, b, ldb, strideB, 0f, c, ldc, strideC, batch);
        }

        /** "sgemm(N, T, 512, 256, 512)", or "gemmEx(bf16, N, T, 512, 256, 512)" with 16-bit operands. */
        @Override public String describe() {
            String name = switch (type) {
                case Cublas.CUDA_R_32F -> "sgemm(";
                case Cublas.CUDA_R_16BF -> "gemmEx(bf16, ";
                case Cublas.CUDA_R_16F -> "gemmEx(fp16, ";
                default -> "gemmEx(type " + type + ", ";
            };
            return name + (transA == 0 ? "N" : "T") + ", " + (transB == 0 ? "N" : "T") + ", " + m + ", " + n + ", " + k
                    + (batch == 1 ? "" : ", batch " + batch) + ")";
        }
    }

    /**
     * A call into a vendor library other than the GEMM (cuDNN): {@code call} is bound at compile time and enqueues its
     * work on the stream it is given. Reads its workspace address when it runs, since the workspace is allocated after
     * the whole program is lowered.
     */
    record Library(String description, Call call) implements Launch {
        interface Call { void enqueue(long stream); }

        @Override public void run(CudaDriver driver, Sgemm gemm, long stream) { call.enqueue(stream); }
        @Override public String describe() { return description; }
    }

    record Copy(long dst, long src, long bytes) implements Launch {
        @Override public void run(CudaDriver driver, Sgemm gemm, long stream) { driver.memcpyDtoDAsync(dst, src, bytes, stream); }
        @Override public String describe() { return "memcpyDtoD(" + bytes + " bytes)"; }
    }

    record Fill(long dst, int bits, long count) implements Launch {
        @Override public void run(CudaDriver driver, Sgemm gemm, long stream) { driver.memsetD32Async(dst, bits, count, stream); }
        @Override public String describe() { return "memsetD32(" + count + " words)"; }
    }
}
