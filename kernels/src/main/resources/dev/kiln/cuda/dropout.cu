// Inverted dropout on Philox4x32-10 counters, bit-identical to the CPU's mask (dev.kiln.graph.Philox,
// dev.kiln.cpu.DropoutMask): element i keeps when (word >> 8) >= threshold, where word is word
// (i mod 4) of the Philox block for counter (i / 4, step, 0, 0) under key (seed_lo, seed_hi), and
// threshold = ceil(rate * 2^24). Kept elements are scaled by 1 / (1 - rate) (a float, as on the CPU).
// The step is read from device memory so a captured CUDA graph draws a new mask every replay.

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

__device__ __forceinline__ void philox4x32_10(unsigned c0, unsigned c1, unsigned k0, unsigned k1,
                                              unsigned& w0, unsigned& w1, unsigned& w2, unsigned& w3) {
    unsigned x0 = c0, x1 = c1, x2 = 0u, x3 = 0u;
    #pragma unroll
    for (int r = 0; r < 10; r++) {
        unsigned long long p0 = (unsigned long long) PHILOX_M0 * x0;
        unsigned long long p1 = (unsigned long long) PHILOX_M1 * x2;
        unsigned y0 = (unsigned) (p1 >> 32) ^ x1 ^ k0;
        unsigned y1 = (unsigned) p1;
        unsigned y2 = (unsigned) (p0 >> 32) ^ x3 ^ k1;
        unsigned y3 = (unsigned) p0;
        x0 = y0; x1 = y1; x2 = y2; x3 = y3;
        k0 += PHILOX_W0; k1 += PHILOX_W1;
    }
    w0 = x0; w1 = x1; w2 = x2; w3 = x3;
}

// y = keep ? x * scale : 0. One Philox block (4 elements) per loop iteration, grid-stride.
extern "C" __global__ void kiln_dropout_f32(const float* __restrict__ x, float* __restrict__ y,
                                            const float* __restrict__ step_buf, unsigned seed_lo, unsigned seed_hi,
                                            unsigned threshold, float scale, long long n) {
    const unsigned step = (unsigned) (long long) *step_buf;
    const long long blocks = (n + 3) / 4;
    for (long long b = (long long) blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += (long long) gridDim.x * blockDim.x) {
        unsigned w0, w1, w2, w3;
        philox4x32_10((unsigned) b, step, seed_lo, seed_hi, w0, w1, w2, w3);
        const long long i = 4 * b;
        y[i] = (w0 >> 8) >= threshold ? x[i] * scale : 0.0f;
        if (i + 1 < n) y[i + 1] = (w1 >> 8) >= threshold ? x[i + 1] * scale : 0.0f;
        if (i + 2 < n) y[i + 2] = (w2 >> 8) >= threshold ? x[i + 2] * scale : 0.0f;
        if (i + 3 < n) y[i + 3] = (w3 >> 8) >= threshold ? x[i + 3] * scale : 0.0f;
    }
}
