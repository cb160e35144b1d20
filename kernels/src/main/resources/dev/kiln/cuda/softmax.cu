// Softmax cross-entropy per row, as dev.kiln.graph.SoftmaxCrossEntropy: loss[r] = -sum_c labels[r,c] * log_softmax(z[r])_c,
// and, when dlogits is not null, its gradient for an upstream gradient dloss[r]:
// dlogits[r,c] = dloss[r] * (softmax(z[r])_c * sum_c labels[r,c] - labels[r,c]).
// One block per row (grid-stride over rows), blockDim a multiple of 32; the row's max, sum of
// exponentials and loss are block reductions in reduce.cu's fixed order.

#include "reduce_block.cuh"

extern "C" __global__ void kiln_softmax_xent_f32(const float* __restrict__ logits, const float* __restrict__ labels,
                                                 float* __restrict__ loss, const float* __restrict__ dloss,
                                                 float* __restrict__ dlogits, int rows, int classes) {
    __shared__ float partial[32];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* z = logits + (long long) r * classes;
        const float* y = labels + (long long) r * classes;
        float m = -INFINITY;
        for (int c = threadIdx.x; c < classes; c += blockDim.x) m = fmaxf(m, z[c]);
        m = kiln_block_max(m, partial);
        float s = 0.0f;
        for (int c = threadIdx.x; c < classes; c += blockDim.x) s += expf(z[c] - m);
        s = kiln_block_sum(s, partial);
        const float log_s = logf(s);
        float l = 0.0f, ysum = 0.0f;
        for (int c = threadIdx.x; c < classes; c += blockDim.x) {
            l -= y[c] * (z[c] - m - log_s);
            ysum += y[c];
        }
        l = kiln_block_sum(l, partial);
        if (threadIdx.x == 0) loss[r] = l;
        if (dlogits != nullptr) {
            ysum = kiln_block_sum(ysum, partial);
            const float g = dloss[r];
            for (int c = threadIdx.x; c < classes; c += blockDim.x) {
                dlogits[(long long) r * classes + c] = g * (expf(z[c] - m) / s * ysum - y[c]);
            }
        }
    }
}
