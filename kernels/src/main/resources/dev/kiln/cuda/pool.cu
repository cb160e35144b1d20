// Max and average pooling over NHWC windows, x [N,H,W,C] -> y [N,OH,OW,C], and their gradients, as
// dev.kiln.graph.Pool2d defines them and the CPU's scalar twin (dev.kiln.cpu.Pool2dScalar) computes them: a window
// is the in-bounds part of {iy = oy·sh - pt + ky, ix = ox·sw - pl + kx}; max treats padding as -inf (NaN
// propagates, +0 beats -0, as Java's Math.max), avg divides the in-order sum by the in-bounds count (0 for none).
// The gradient is a gather, one thread per dx element, with no atomics: it visits the windows that contain its
// element in ascending (oy, ox) order, the order in which the scalar twin scatters into it, so it adds the same
// terms in the same order: max adds dy where the window's first maximal element (row-major, strict >) is this one,
// avg adds dy / count. Results match the scalar twin bit for bit.

// Java's Math.max: NaN if either is NaN, +0 over -0
__device__ __forceinline__ float kiln_pool_max(float a, float b) {
    return (a != a || b != b) ? a + b : (a == b ? (__float_as_int(a) < 0 ? b : a) : fmaxf(a, b));
}

#define KILN_POOL_PARAMS int n, int h, int w, int c, int kh, int kw, int sh, int sw, int pt, int pl, int oh, int ow
#define KILN_POOL_LOOP(i, count) for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < (count); \
                                      i += (long long) gridDim.x * blockDim.x)

// The in-bounds window of output (oy, ox), channel ch of image b, in row-major order: Math.max of its values, their
// sum, their count, and where its first maximal element is (strict >, the gradient's routing).
struct KilnWindow { float max, sum; int count, argy, argx; };

__device__ KilnWindow kiln_pool_window(const float* __restrict__ x, int b, int ch, int oy, int ox,
                                       int h, int w, int c, int kh, int kw, int sh, int sw, int pt, int pl) {
    KilnWindow r{__int_as_float(0xff800000), 0.0f, 0, -1, -1};
    float best = r.max;
    for (int ky = 0; ky < kh; ky++) {
        const int iy = oy * sh - pt + ky;
        if (iy < 0 || iy >= h) continue;
        for (int kx = 0; kx < kw; kx++) {
            const int ix = ox * sw - pl + kx;
            if (ix < 0 || ix >= w) continue;
            const float v = x[(((long long) b * h + iy) * w + ix) * c + ch];
            r.max = kiln_pool_max(r.max, v);
            r.sum = __fadd_rn(r.sum, v);
            if (r.argy < 0 || v > best) { best = v; r.argy = iy; r.argx = ix; }
            r.count++;
        }
    }
    return r;
}

// max (kind 0) or avg (kind 1), one thread per output element, grid-stride
extern "C" __global__ void kiln_pool2d_forward_f32(const float* __restrict__ x, float* __restrict__ y, int kind,
                                                   KILN_POOL_PARAMS) {
    KILN_POOL_LOOP(i, (long long) n * oh * ow * c) {
        const int ch = (int) (i % c);
        const long long pixel = i / c;
        const int ox = (int) (pixel % ow), oy = (int) (pixel / ow % oh), b = (int) (pixel / ((long long) ow * oh));
        const KilnWindow win = kiln_pool_window(x, b, ch, oy, ox, h, w, c, kh, kw, sh, sw, pt, pl);
        y[i] = kind == 0 ? win.max : (win.count == 0 ? 0.0f : __fdiv_rn(win.sum, (float) win.count));
    }
}

// dx of kiln_pool2d_forward_f32 given x and dy, one thread per dx element, grid-stride
extern "C" __global__ void kiln_pool2d_backward_f32(const float* __restrict__ x, const float* __restrict__ dy,
                                                    float* __restrict__ dx, int kind, KILN_POOL_PARAMS) {
    KILN_POOL_LOOP(i, (long long) n * h * w * c) {
        const int ch = (int) (i % c);
        const long long pixel = i / c;
        const int ix = (int) (pixel % w), iy = (int) (pixel / w % h), b = (int) (pixel / ((long long) w * h));
        float acc = 0.0f;
        for (int ky = kh - 1; ky >= 0; ky--) {             // ascending oy
            const int ty = iy + pt - ky;
            if (ty < 0 || ty % sh != 0 || ty / sh >= oh) continue;
            const int oy = ty / sh;
            for (int kx = kw - 1; kx >= 0; kx--) {         // ascending ox
                const int tx = ix + pl - kx;
                if (tx < 0 || tx % sw != 0 || tx / sw >= ow) continue;
                const int ox = tx / sw;
                const KilnWindow win = kiln_pool_window(x, b, ch, oy, ox, h, w, c, kh, kw, sh, sw, pt, pl);
                const float d = dy[(((long long) b * oh + oy) * ow + ox) * c + ch];
                if (kind != 0) acc = __fadd_rn(acc, __fdiv_rn(d, (float) win.count));   // (iy, ix) is in the window: count >= 1
                else if (win.argy == iy && win.argx == ix) acc = __fadd_rn(acc, d);
            }
        }
        dx[i] = acc;
    }
}
