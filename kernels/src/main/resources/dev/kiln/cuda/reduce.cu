// Reductions with one fixed summation order (Kiln's determinism rule), written down here:
//  kiln_sum_rows_f32: out[r] = sum of row r of x[rows, cols]. One block per row (grid-stride over rows);
//    thread t adds x[r, t], x[r, t + B], ... in that order (B = blockDim.x, a multiple of 32, at most 1024);
//    each warp then adds with __shfl_down_sync at offsets 16, 8, 4, 2, 1; warp w's total goes to
//    shared[w]; warp 0 adds shared[0 .. B/32) the same way. The order depends on B, so the
//    launcher fixes B (256) and the CPU twin follows it.
//  kiln_sum_cols_f32: out[c] = x[0, c] + x[1, c] + ... in row order, one thread per column.

#include "reduce_block.cuh"

extern "C" __global__ void kiln_sum_rows_f32(const float* __restrict__ x, float* __restrict__ out, int rows, int cols) {
    __shared__ float partial[32];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + (long long) r * cols;
        float acc = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) acc += row[c];
        const float total = kiln_block_sum(acc, partial);
        if (threadIdx.x == 0) out[r] = total;
    }
}

extern "C" __global__ void kiln_sum_cols_f32(const float* __restrict__ x, float* __restrict__ out, int rows, int cols) {
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x) {
        float acc = 0.0f;
        for (int r = 0; r < rows; r++) acc += x[(long long) r * cols + c];
        out[c] = acc;
    }
}
