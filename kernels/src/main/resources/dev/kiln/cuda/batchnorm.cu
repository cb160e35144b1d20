// Batch normalisation over the last (channel) axis, x: [rows, C] with rows = N·H·W (NHWC), as
// dev.kiln.graph.BatchNorm: y = (x - mean) / sqrt(var + eps) · gamma + beta, with mean and var given
// (batch statistics in training, moving averages in inference).
// Backward in training, through the batch statistics (mean and biased var of x over rows):
//   xhat = (x - mean)·invstd, dbeta = Σ dy, dgamma = Σ dy·xhat,
//   dx = gamma·invstd / rows · (rows·dy - dbeta - xhat·dgamma)
// One block per channel (grid-stride over channels); sums in reduce.cu's fixed block order.
// dgamma and dbeta may be null: Kiln's graph computes them as reductions of their own (BatchNorm's gradient), so the
// backward (BatchNormGrad) writes dx only.

#include "reduce_block.cuh"

extern "C" __global__ void kiln_batchnorm_forward_f32(const float* __restrict__ x, const float* __restrict__ mean,
                                                      const float* __restrict__ var, const float* __restrict__ gamma,
                                                      const float* __restrict__ beta, float* __restrict__ y,
                                                      float eps, long long rows, int channels) {
    const long long n = rows * channels;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        const int c = (int) (i % channels);
        y[i] = (x[i] - mean[c]) / sqrtf(var[c] + eps) * gamma[c] + beta[c];
    }
}

extern "C" __global__ void kiln_batchnorm_backward_f32(const float* __restrict__ x, const float* __restrict__ dy,
                                                       const float* __restrict__ mean, const float* __restrict__ var,
                                                       const float* __restrict__ gamma, float* __restrict__ dx,
                                                       float* __restrict__ dgamma, float* __restrict__ dbeta,
                                                       float eps, int rows, int channels) {
    __shared__ float partial[32];
    for (int c = blockIdx.x; c < channels; c += gridDim.x) {
        const float mu = mean[c];
        const float invstd = 1.0f / sqrtf(var[c] + eps);
        float sdy = 0.0f, sdyx = 0.0f;
        for (int r = threadIdx.x; r < rows; r += blockDim.x) {
            const float g = dy[(long long) r * channels + c];
            sdy += g;
            sdyx += g * (x[(long long) r * channels + c] - mu) * invstd;
        }
        sdy = kiln_block_sum(sdy, partial);
        sdyx = kiln_block_sum(sdyx, partial);
        if (threadIdx.x == 0 && dgamma != nullptr) { dbeta[c] = sdy; dgamma[c] = sdyx; }
        const float k = gamma[c] * invstd / rows;
        for (int r = threadIdx.x; r < rows; r += blockDim.x) {
            const long long i = (long long) r * channels + c;
            const float xhat = (x[i] - mu) * invstd;
            dx[i] = k * (rows * dy[i] - sdy - xhat * sdyx);
        }
    }
}
