// 2-D convolution over NHWC data as implicit GEMMs, the fallback where cuDNN is missing and what the emulated
// device runs: x [N,H,W,C], w [KH,KW,C/G,F] (HWIO), y [N,OH,OW,F], as dev.kiln.graph.ConvGeometry resolves them
// (padTop/padLeft, strides, dilations, G groups; output channel f belongs to group f / (F/G)). Padding reads as 0.
//
// Each pass is one GEMM C[rows, cols] = A[rows, depth] · B[depth, cols] per group (blockIdx.z), A gathered from
// the image on the fly (no im2col buffer). 16x16 output tiles per block of 256 threads (64x64 with 4x4 outputs per
// thread, the _wide kernels, when the GEMM's rows and columns both reach 64), depth in slices of 16 through shared
// memory. Not tuned: correctness first, cuDNN is the fast path. Every output element is one thread's sequential sum
// over depth in ascending order, with separately rounded products and sums (__fmul_rn/__fadd_rn, no FMA contraction): the same float operations in the
// same order as the CPU's scalar twin (dev.kiln.cpu.Conv2dScalar), so results match it bit for bit (a padded
// position adds a product with 0, which changes no sum unless a weight is infinite or NaN). No atomics.
//
//   forward          rows = N·OH·OW pixels, cols = F/G filters,  depth = (ky, kx, ci)
//   backward data    rows = N·H·W pixels,   cols = C/G channels, depth = (ky desc, kx desc, f): dy pixels in
//                    ascending (oy, ox) order, the scalar twin's scatter order seen from one dx element
//   backward filter  rows = (ky, kx, ci),   cols = F/G filters,  depth = (n, oy, ox)
//
// The _bf16 and _fp16 twins read x, w and dy as 16-bit values (bf16: an f32's high half; fp16: IEEE binary16), each widened
// to f32 exactly as it is loaded: over operands already rounded to that format they compute the f32 kernels' bits while
// reading half the bytes. Used for bf16/fp16 mixed precision, where the AutoCast pass rounds every convolution operand.

#define KILN_TILE 16

struct KilnConv {
    int n, h, w, c, kh, kw, f, groups, sh, sw, dh, dw, pt, pl, oh, ow;
    __device__ int cg() const { return c / groups; }
    __device__ int fg() const { return f / groups; }
};

// The operand element types: float, and 16-bit storage widened to float on load (KilnBf16 / KilnFp16 hold the bits).
struct KilnBf16 { unsigned short bits; };
struct KilnFp16 { unsigned short bits; };
__device__ __forceinline__ float kiln_widen(float v) { return v; }
__device__ __forceinline__ float kiln_widen(KilnBf16 v) { return __uint_as_float((unsigned int) v.bits << 16); }
__device__ __forceinline__ float kiln_widen(KilnFp16 v) {
    const unsigned int sign = (unsigned int) (v.bits & 0x8000u) << 16, e = (v.bits >> 10) & 0x1fu, m = v.bits & 0x3ffu;
    if (e == 31) return __uint_as_float(sign | 0x7f800000u | (m << 13));                  // inf, NaN
    if (e == 0) return __uint_as_float(sign | __float_as_uint((float) m * 0x1p-24f));     // zero, subnormal: exact
    return __uint_as_float(sign | ((e + 112u) << 23) | (m << 13));
}

// act: 0 none, 1 relu, 2 sigmoid, 3 tanh (dev.kiln.graph.Epilogue.Activation's order)
__device__ __forceinline__ float kiln_conv_activation(float v, int act) {
    if (act == 1) return v > 0.0f ? v : 0.0f;
    if (act == 2) {
        const float e = expf(-fabsf(v));
        const float r = 1.0f / (1.0f + e);
        return v >= 0.0f ? r : e * r;
    }
    if (act == 3) return tanhf(v);
    return v;
}

// The x element output pixel `pixel` (n, oy, ox) reads at filter tap `tap` (ky, kx, ci) of group `group`; 0 in padding.
template <class T>
__device__ __forceinline__ float kiln_conv_input(const KilnConv& g, const T* x, int group, int pixel, int tap) {
    const int ci = tap % g.cg(), t = tap / g.cg(), kx = t % g.kw, ky = t / g.kw;
    const int ox = pixel % g.ow, r = pixel / g.ow, oy = r % g.oh, n = r / g.oh;
    const int iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw - g.pl + kx * g.dw;
    if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) return 0.0f;
    return kiln_widen(x[(((long long) n * g.h + iy) * g.w + ix) * g.c + group * g.cg() + ci]);
}

// One tile of C = A·B for problem P: P::a(row, k), P::b(k, col) load, P::store(row, col, sum) writes. The block's
// 16x16 threads cover a (16·R)x(16·R) tile, each thread R x R outputs at rows ty + 16·i and columns tx + 16·j (R = 1,
// or 4 for large GEMMs: sixteen sums per thread out of the same shared slices). Every sum still runs over k in order.
template <int R, class P>
__device__ void kiln_tiled_gemm(const P& p, int rows, int cols, int depth) {
    __shared__ float as[KILN_TILE][KILN_TILE * R + 1];   // [k][row]
    __shared__ float bs[KILN_TILE][KILN_TILE * R + 1];   // [k][col]
    const int tx = threadIdx.x % KILN_TILE, ty = threadIdx.x / KILN_TILE;
    const int row0 = blockIdx.x * KILN_TILE * R, col0 = blockIdx.y * KILN_TILE * R;
    float acc[R][R];
#pragma unroll
    for (int i = 0; i < R; i++)
#pragma unroll
        for (int j = 0; j < R; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < depth; k0 += KILN_TILE) {
#pragma unroll
        for (int i = 0; i < R; i++) {
            const int r = ty + KILN_TILE * i, c = tx + KILN_TILE * i;
            as[tx][r] = (row0 + r < rows && k0 + tx < depth) ? p.a(row0 + r, k0 + tx) : 0.0f;
            bs[ty][c] = (k0 + ty < depth && col0 + c < cols) ? p.b(k0 + ty, col0 + c) : 0.0f;
        }
        __syncthreads();
        const int slice = min(KILN_TILE, depth - k0);
        for (int k = 0; k < slice; k++) {
            float a[R], b[R];
#pragma unroll
            for (int i = 0; i < R; i++) { a[i] = as[k][ty + KILN_TILE * i]; b[i] = bs[k][tx + KILN_TILE * i]; }
#pragma unroll
            for (int i = 0; i < R; i++)
#pragma unroll
                for (int j = 0; j < R; j++) acc[i][j] = __fadd_rn(acc[i][j], __fmul_rn(a[i], b[j]));
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < R; i++)
#pragma unroll
        for (int j = 0; j < R; j++) {
            const int row = row0 + ty + KILN_TILE * i, col = col0 + tx + KILN_TILE * j;
            if (row < rows && col < cols) p.store(row, col, acc[i][j]);
        }
}

template <class T>
struct KilnConvForward {
    KilnConv g;
    const T* x; const T* wt; const float* bias; float* y;
    int group, act;
    __device__ float a(int m, int k) const { return kiln_conv_input(g, x, group, m, k); }
    __device__ float b(int k, int j) const { return kiln_widen(wt[(long long) k * g.f + group * g.fg() + j]); }
    __device__ void store(int m, int j, float acc) const {
        const int fo = group * g.fg() + j;
        float v = acc;
        if (bias != 0) v = __fadd_rn(v, bias[fo]);
        if (bias != 0 || act != 0) v = kiln_conv_activation(v, act);
        y[(long long) m * g.f + fo] = v;
    }
};

template <class T>
struct KilnConvBackwardData {
    KilnConv g;
    const T* dy; const T* wt; float* dx;
    int group;
    __device__ float a(int m, int k) const {
        const int fj = k % g.fg(), t = g.kh * g.kw - 1 - k / g.fg(), kx = t % g.kw, ky = t / g.kw;
        const int ix = m % g.w, r = m / g.w, iy = r % g.h, n = r / g.h;
        const int ty = iy + g.pt - ky * g.dh, tx = ix + g.pl - kx * g.dw;
        if (ty < 0 || tx < 0 || ty % g.sh != 0 || tx % g.sw != 0) return 0.0f;
        const int oy = ty / g.sh, ox = tx / g.sw;
        if (oy >= g.oh || ox >= g.ow) return 0.0f;
        return kiln_widen(dy[(((long long) n * g.oh + oy) * g.ow + ox) * g.f + group * g.fg() + fj]);
    }
    __device__ float b(int k, int ci) const {
        const int fj = k % g.fg(), t = g.kh * g.kw - 1 - k / g.fg();
        return kiln_widen(wt[((long long) t * g.cg() + ci) * g.f + group * g.fg() + fj]);
    }
    __device__ void store(int m, int ci, float acc) const { dx[(long long) m * g.c + group * g.cg() + ci] = acc; }
};

template <class T>
struct KilnConvBackwardFilter {
    KilnConv g;
    const T* x; const T* dy; float* dwt;
    int group;
    __device__ float a(int m, int k) const { return kiln_conv_input(g, x, group, k, m); }
    __device__ float b(int k, int j) const { return kiln_widen(dy[(long long) k * g.f + group * g.fg() + j]); }
    __device__ void store(int m, int j, float acc) const { dwt[(long long) m * g.f + group * g.fg() + j] = acc; }
};

#define KILN_CONV_PARAMS int n, int h, int w, int c, int kh, int kw, int f, int groups, int sh, int sw, int dh, int dw, \
                         int pt, int pl, int oh, int ow
#define KILN_CONV_GEOMETRY KilnConv{n, h, w, c, kh, kw, f, groups, sh, sw, dh, dw, pt, pl, oh, ow}

// The entry points: R = 1 (16x16 tiles) and the _wide twins, R = 4 (64x64 tiles), for GEMMs whose rows and columns
// both reach 64. grid (ceil(rows / 16R), ceil(cols / 16R), G), block 256.

// y = act(conv(x, w) + bias); bias may be null (plain convolution: act must be 0 and y is the bare sum).
// rows N·OH·OW, cols F/G, depth KH·KW·C/G
template <int R, class T>
__device__ void kiln_conv_forward(const T* x, const T* wt, const float* bias, float* y, int act, KILN_CONV_PARAMS) {
    const KilnConvForward<T> p{KILN_CONV_GEOMETRY, x, wt, bias, y, (int) blockIdx.z, act};
    kiln_tiled_gemm<R>(p, n * oh * ow, f / groups, kh * kw * (c / groups));
}

// dx = convᵀ(dy, w): rows N·H·W, cols C/G, depth KH·KW·F/G
template <int R, class T>
__device__ void kiln_conv_backward_data(const T* dy, const T* wt, float* dx, KILN_CONV_PARAMS) {
    const KilnConvBackwardData<T> p{KILN_CONV_GEOMETRY, dy, wt, dx, (int) blockIdx.z};
    kiln_tiled_gemm<R>(p, n * h * w, c / groups, kh * kw * (f / groups));
}

// dw = Σ over pixels of x ⊗ dy: rows KH·KW·C/G, cols F/G, depth N·OH·OW
template <int R, class T>
__device__ void kiln_conv_backward_filter(const T* x, const T* dy, float* dwt, KILN_CONV_PARAMS) {
    const KilnConvBackwardFilter<T> p{KILN_CONV_GEOMETRY, x, dy, dwt, (int) blockIdx.z};
    kiln_tiled_gemm<R>(p, kh * kw * (c / groups), f / groups, n * oh * ow);
}

#define KILN_CONV_ARGS n, h, w, c, kh, kw, f, groups, sh, sw, dh, dw, pt, pl, oh, ow

// name_SUFFIX (R = 1) and name_wide_SUFFIX (R = 4), both calling fn<R> with operands of type T
#define KILN_CONV_ENTRIES(name, suffix, T, fn, params, args) \
    extern "C" __global__ void name##_##suffix params { fn<1, T> args; } \
    extern "C" __global__ void name##_wide_##suffix params { fn<4, T> args; }

// every pass for operands of type T, as kiln_conv2d_{forward,backward_data,backward_filter}[_wide]_SUFFIX
#define KILN_CONV_PASSES(suffix, T) \
    KILN_CONV_ENTRIES(kiln_conv2d_forward, suffix, T, kiln_conv_forward, \
                      (const T* __restrict__ x, const T* __restrict__ wt, const float* __restrict__ bias, float* __restrict__ y, \
                       int act, KILN_CONV_PARAMS), \
                      (x, wt, bias, y, act, KILN_CONV_ARGS)) \
    KILN_CONV_ENTRIES(kiln_conv2d_backward_data, suffix, T, kiln_conv_backward_data, \
                      (const T* __restrict__ dy, const T* __restrict__ wt, float* __restrict__ dx, KILN_CONV_PARAMS), \
                      (dy, wt, dx, KILN_CONV_ARGS)) \
    KILN_CONV_ENTRIES(kiln_conv2d_backward_filter, suffix, T, kiln_conv_backward_filter, \
                      (const T* __restrict__ x, const T* __restrict__ dy, float* __restrict__ dwt, KILN_CONV_PARAMS), \
                      (x, dy, dwt, KILN_CONV_ARGS))

KILN_CONV_PASSES(f32, float)
KILN_CONV_PASSES(bf16, KilnBf16)
KILN_CONV_PASSES(fp16, KilnFp16)
