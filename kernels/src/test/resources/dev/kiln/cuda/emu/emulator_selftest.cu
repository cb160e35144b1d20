// Kernels that exercise the PTX emulator's features one by one (shared memory, bar.sync, warp
// shuffles, integer and double arithmetic, conversions, atomics), each checked against Java.

// Block sum through shared memory and a tree of bar.sync, then a warp of shuffles; one output per block.
extern "C" __global__ void block_sum(const float* x, float* out, int n) {
    __shared__ float s[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride >= 32; stride /= 2) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x < 32) {
        float v = s[threadIdx.x];
        for (int off = 16; off > 0; off /= 2) v += __shfl_down_sync(0xffffffffu, v, off);
        if (threadIdx.x == 0) out[blockIdx.x] = v;
    }
}

// Integer mix: division, remainder, shifts, min/max, 64-bit multiply-high, unsigned compare.
extern "C" __global__ void int_mix(const int* a, const int* b, long long* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    int x = a[i], y = b[i];
    int q = y != 0 ? x / y : 0;
    int r = y != 0 ? x % y : 0;
    unsigned int ux = (unsigned int) x;
    long long wide = (long long) x * (long long) y;
    long long hi = __mul64hi(wide, 0x123456789LL);
    out[5 * i + 0] = q;
    out[5 * i + 1] = r;
    out[5 * i + 2] = (long long) ((ux >> 3) ^ (unsigned int) (y << 2)) + (ux > (unsigned int) y ? 1 : 0);
    out[5 * i + 3] = max(x, y) - min(x, y);
    out[5 * i + 4] = hi + __popc(ux) + __clz(x);
}

// Doubles, conversions with rounding, dynamic shared memory and an atomic add per block.
extern "C" __global__ void double_mix(const double* a, float* f_out, int* i_out, double* d_out, int* count, int n) {
    extern __shared__ double dyn[];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    dyn[threadIdx.x] = i < n ? a[i] : 0.0;
    __syncthreads();
    if (i >= n) return;
    double v = dyn[threadIdx.x];
    d_out[i] = fma(v, 3.0, -1.0) / 7.0 + sqrt(fabs(v));
    f_out[i] = (float) v;
    i_out[i] = __double2int_rn(v) + (int) floorf((float) v) + (int) v;
    atomicAdd(count, 1);
}

// bfi.b32 with positions and lengths from registers, including ones that run past bit 31 or are 0
extern "C" __global__ void bit_insert(const unsigned* a, const unsigned* b, const unsigned* pos, const unsigned* len, unsigned* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    unsigned d;
    asm("bfi.b32 %0, %1, %2, %3, %4;" : "=r"(d) : "r"(a[i]), "r"(b[i]), "r"(pos[i]), "r"(len[i]));
    out[i] = d;
}
