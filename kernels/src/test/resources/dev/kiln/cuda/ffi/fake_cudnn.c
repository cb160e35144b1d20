// A stand-in for libcudnn.so.9 on the host, for CudnnLibraryOnAFakeTest: the legacy calls Kiln's convolution path
// makes, with cuDNN's documented meaning over host memory (a "device pointer" is a host address here). Descriptors
// keep their numbers; convolutions are computed from the descriptors' dims and strides, in double; every call that
// takes a workspace first scribbles over all of it, so a workspace that overlaps the filter scratch corrupts the result.
// Algorithm queries offer: 0 non-deterministic, 1 deterministic with 4096 bytes of workspace, 2 deterministic but 1 TiB.
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int nb, dims[8], strides[8]; } Tensor;   // tensors and filters: logical (n, c, h, w) / (k, c, r, s)
typedef struct { int pad[2], stride[2], dil[2], groups, math; } Conv;
typedef struct { int mode; } Act;
typedef struct { int algo, status; float time; size_t memory; int determinism, mathType, reserved[3]; } Perf;

int fake_cudnn_calls = 0;   // every call, for the test to see the library was used

size_t cudnnGetVersion(void) { return 90100; }
const char* cudnnGetErrorString(int s) { return "fake cuDNN error"; }
int cudnnCreate(void** h) { *h = malloc(16); fake_cudnn_calls++; return 0; }
int cudnnDestroy(void* h) { free(h); return 0; }
int cudnnSetStream(void* h, void* s) { fake_cudnn_calls++; return 0; }

int cudnnCreateTensorDescriptor(void** d) { *d = calloc(1, sizeof(Tensor)); return 0; }
int cudnnCreateFilterDescriptor(void** d) { *d = calloc(1, sizeof(Tensor)); return 0; }
int cudnnCreateConvolutionDescriptor(void** d) { *d = calloc(1, sizeof(Conv)); ((Conv*) *d)->groups = 1; return 0; }
int cudnnCreateActivationDescriptor(void** d) { *d = calloc(1, sizeof(Act)); return 0; }

static void four(Tensor* t, int nhwc, int n, int c, int h, int w) {
    t->nb = 4; t->dims[0] = n; t->dims[1] = c; t->dims[2] = h; t->dims[3] = w;
    if (nhwc) { t->strides[0] = h * w * c; t->strides[1] = 1; t->strides[2] = w * c; t->strides[3] = c; }
    else { t->strides[0] = c * h * w; t->strides[1] = h * w; t->strides[2] = w; t->strides[3] = 1; }
}
int cudnnSetTensor4dDescriptor(Tensor* t, int format, int type, int n, int c, int h, int w) {
    if (type != 0 || (format != 0 && format != 1)) return 3;   // CUDNN_STATUS_BAD_PARAM
    four(t, format == 1, n, c, h, w); return 0;
}
int cudnnSetTensorNdDescriptor(Tensor* t, int type, int nb, const int* dims, const int* strides) {
    if (type != 0 || nb < 1 || nb > 8) return 3;
    t->nb = nb;
    for (int i = 0; i < nb; i++) { t->dims[i] = dims[i]; t->strides[i] = strides[i]; }
    return 0;
}
int cudnnSetFilter4dDescriptor(Tensor* t, int type, int format, int k, int c, int h, int w) {
    if (type != 0 || (format != 0 && format != 1)) return 3;
    four(t, format == 1, k, c, h, w); return 0;
}
int cudnnSetConvolution2dDescriptor(Conv* c, int ph, int pw, int u, int v, int dh, int dw, int mode, int type) {
    if (mode != 1 || type != 0) return 3;   // Kiln asks for cross-correlation in f32
    c->pad[0] = ph; c->pad[1] = pw; c->stride[0] = u; c->stride[1] = v; c->dil[0] = dh; c->dil[1] = dw; return 0;
}
int cudnnSetConvolutionGroupCount(Conv* c, int g) { c->groups = g; return 0; }
int cudnnSetConvolutionMathType(Conv* c, int m) { c->math = m; return 0; }
int cudnnSetActivationDescriptor(Act* a, int mode, int nan, double coef) { a->mode = mode; return 0; }

static int perfs(int requested, int* returned, Perf* p) {
    Perf all[3] = {{0, 0, 0.1f, 0, 0, 3, {0}}, {1, 0, 0.2f, 4096, 1, 3, {0}}, {2, 0, 0.05f, (size_t) 1 << 40, 1, 3, {0}}};
    int n = requested < 3 ? requested : 3;
    for (int i = 0; i < n; i++) p[i] = all[i];
    *returned = n; fake_cudnn_calls++; return 0;
}
int cudnnGetConvolutionForwardAlgorithm_v7(void* h, void* x, void* w, void* c, void* y, int r, int* n, Perf* p) { return perfs(r, n, p); }
int cudnnFindConvolutionForwardAlgorithm(void* h, void* x, void* w, void* c, void* y, int r, int* n, Perf* p) { return perfs(r, n, p); }
int cudnnGetConvolutionBackwardDataAlgorithm_v7(void* h, void* w, void* dy, void* c, void* dx, int r, int* n, Perf* p) { return perfs(r, n, p); }
int cudnnFindConvolutionBackwardDataAlgorithm(void* h, void* w, void* dy, void* c, void* dx, int r, int* n, Perf* p) { return perfs(r, n, p); }
int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void* h, void* x, void* dy, void* c, void* dw, int r, int* n, Perf* p) { return perfs(r, n, p); }
int cudnnFindConvolutionBackwardFilterAlgorithm(void* h, void* x, void* dy, void* c, void* dw, int r, int* n, Perf* p) { return perfs(r, n, p); }
static int wsize(int algo, size_t* s) { *s = algo == 1 ? 4096 : 0; return 0; }
int cudnnGetConvolutionForwardWorkspaceSize(void* h, void* x, void* w, void* c, void* y, int algo, size_t* s) { return wsize(algo, s); }
int cudnnGetConvolutionBackwardDataWorkspaceSize(void* h, void* w, void* dy, void* c, void* dx, int algo, size_t* s) { return wsize(algo, s); }
int cudnnGetConvolutionBackwardFilterWorkspaceSize(void* h, void* x, void* dy, void* c, void* dw, int algo, size_t* s) { return wsize(algo, s); }

static long at(const Tensor* t, int a, int b, int c, int d) {
    return (long) a * t->strides[0] + (long) b * t->strides[1] + (long) c * t->strides[2] + (long) d * t->strides[3];
}
static long count(const Tensor* t) { long n = 1; for (int i = 0; i < t->nb; i++) n *= t->dims[i]; return n; }
static long offset(const Tensor* t, long i) {   // the i-th element in row-major order of the logical dims
    long off = 0;
    for (int d = t->nb - 1; d >= 0; d--) { off += (i % t->dims[d]) * t->strides[d]; i /= t->dims[d]; }
    return off;
}

enum { FORWARD, DATA, FILTER };
// every term x[n, g·C/G + c, p·u - ph + r·dh, q·v - pw + s·dw] · w[k, c, r, s] of y[n, k, p, q], accumulated (in double)
// into the role's output, then out = alpha·sum + beta·out
static void convolve(int role, const Conv* cv, const Tensor* xd, const float* x, const Tensor* wd, const float* w,
                     const Tensor* yd, const float* y, float* out, const Tensor* od, float alpha, float beta, void* ws, size_t wsBytes) {
    if (wsBytes > 0) memset(ws, 0xAB, wsBytes);
    long total = count(od);
    double* acc = calloc(total, sizeof(double));
    int N = xd->dims[0], C = xd->dims[1], H = xd->dims[2], W = xd->dims[3], K = wd->dims[0], CG = wd->dims[1], R = wd->dims[2], S = wd->dims[3];
    int P = yd->dims[2], Q = yd->dims[3], KG = K / cv->groups;
    for (int n = 0; n < N; n++) for (int k = 0; k < K; k++) for (int p = 0; p < P; p++) for (int q = 0; q < Q; q++)
        for (int c = 0; c < CG; c++) for (int r = 0; r < R; r++) for (int s = 0; s < S; s++) {
            int ih = p * cv->stride[0] - cv->pad[0] + r * cv->dil[0], iw = q * cv->stride[1] - cv->pad[1] + s * cv->dil[1];
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            int ch = (k / KG) * CG + c;
            long xi = at(xd, n, ch, ih, iw), wi = at(wd, k, c, r, s), yi = at(yd, n, k, p, q);
            // the output descriptor's strides are the role output's: index acc by logical position
            if (role == FORWARD) acc[((long) (n * K + k) * P + p) * Q + q] += (double) x[xi] * w[wi];
            else if (role == DATA) acc[((long) (n * C + ch) * H + ih) * W + iw] += (double) y[yi] * w[wi];
            else acc[((long) (k * CG + c) * R + r) * S + s] += (double) x[xi] * y[yi];
        }
    for (long i = 0; i < total; i++) { long o = offset(od, i); out[o] = (float) (alpha * acc[i] + (beta == 0 ? 0 : beta * out[o])); }
    free(acc);
    fake_cudnn_calls++;
}

int cudnnConvolutionForward(void* h, const float* alpha, Tensor* xd, const float* x, Tensor* wd, const float* w, Conv* c, int algo,
                            void* ws, size_t wsBytes, const float* beta, Tensor* yd, float* y) {
    convolve(FORWARD, c, xd, x, wd, w, yd, y, y, yd, *alpha, *beta, ws, wsBytes); return 0;
}
int cudnnConvolutionBackwardData(void* h, const float* alpha, Tensor* wd, const float* w, Tensor* dyd, const float* dy, Conv* c, int algo,
                                 void* ws, size_t wsBytes, const float* beta, Tensor* dxd, float* dx) {
    convolve(DATA, c, dxd, NULL, wd, w, dyd, dy, dx, dxd, *alpha, *beta, ws, wsBytes); return 0;
}
int cudnnConvolutionBackwardFilter(void* h, const float* alpha, Tensor* xd, const float* x, Tensor* dyd, const float* dy, Conv* c, int algo,
                                   void* ws, size_t wsBytes, const float* beta, Tensor* dwd, float* dw) {
    convolve(FILTER, c, xd, x, dwd, NULL, dyd, dy, dw, dwd, *alpha, *beta, ws, wsBytes); return 0;
}

static float activate(int mode, float v) {
    if (mode == 1) return v > 0 ? v : 0;
    if (mode == 0) return 1.0f / (1.0f + expf(-v));
    if (mode == 2) return tanhf(v);
    return v;
}
// y[i] += alpha·a[broadcast i] (beta 1 only, as Kiln calls it)
int cudnnAddTensor(void* h, const float* alpha, Tensor* ad, const float* a, const float* beta, Tensor* cd, float* c) {
    if (*beta != 1.0f) return 3;
    for (int n = 0; n < cd->dims[0]; n++) for (int k = 0; k < cd->dims[1]; k++) for (int p = 0; p < cd->dims[2]; p++) for (int q = 0; q < cd->dims[3]; q++) {
        long ai = at(ad, ad->dims[0] == 1 ? 0 : n, ad->dims[1] == 1 ? 0 : k, ad->dims[2] == 1 ? 0 : p, ad->dims[3] == 1 ? 0 : q);
        c[at(cd, n, k, p, q)] += *alpha * a[ai];
    }
    fake_cudnn_calls++; return 0;
}
int cudnnActivationForward(void* h, Act* act, const float* alpha, Tensor* xd, const float* x, const float* beta, Tensor* yd, float* y) {
    for (long i = 0; i < count(yd); i++) y[offset(yd, i)] = *alpha * activate(act->mode, x[offset(xd, i)]) + (*beta == 0 ? 0 : *beta * y[offset(yd, i)]);
    fake_cudnn_calls++; return 0;
}
int cudnnConvolutionBiasActivationForward(void* h, const float* alpha1, Tensor* xd, const float* x, Tensor* wd, const float* w, Conv* c,
                                          int algo, void* ws, size_t wsBytes, const float* alpha2, Tensor* zd, const float* z, Tensor* bd,
                                          const float* bias, Act* act, Tensor* yd, float* y) {
    if (act->mode != 1 && act->mode != 5) return 3;   // cuDNN: relu or identity only
    long total = count(yd);
    float* conv = malloc(total * sizeof(float));
    Tensor dense = *yd;
    convolve(FORWARD, c, xd, x, wd, w, yd, NULL, conv, &dense, *alpha1, 0.0f, ws, wsBytes);
    for (long i = 0; i < total; i++) {
        long o = offset(yd, i);
        int k = (int) (i / ((long) yd->dims[2] * yd->dims[3]) % yd->dims[1]);
        float zv = *alpha2 == 0 ? 0 : *alpha2 * z[offset(zd, i)];
        y[o] = activate(act->mode, conv[o] + zv + bias[at(bd, 0, k, 0, 0)]);
    }
    free(conv);
    return 0;
}
int cudnnTransformTensor(void* h, const float* alpha, Tensor* xd, const float* x, const float* beta, Tensor* yd, float* y) {
    if (xd->nb != yd->nb) return 3;
    for (int d = 0; d < xd->nb; d++) if (xd->dims[d] != yd->dims[d]) return 3;
    for (long i = 0; i < count(xd); i++) y[offset(yd, i)] = *alpha * x[offset(xd, i)] + (*beta == 0 ? 0 : *beta * y[offset(yd, i)]);
    fake_cudnn_calls++; return 0;
}

// ---- pooling, softmax and batch norm (CudnnLayersOnAFakeTest), 4-D tensors read through their descriptors' strides
typedef struct { int mode, nan, win[2], pad[2], stride[2]; } Pool;
int cudnnCreatePoolingDescriptor(void** d) { *d = calloc(1, sizeof(Pool)); return 0; }
int cudnnSetPooling2dDescriptor(Pool* p, int mode, int nan, int wh, int ww, int ph, int pw, int sh, int sw) {
    if (mode < 0 || mode > 3 || wh < 1 || ww < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0 || ph >= wh || pw >= ww) return 3;
    p->mode = mode; p->nan = nan; p->win[0] = wh; p->win[1] = ww; p->pad[0] = ph; p->pad[1] = pw; p->stride[0] = sh; p->stride[1] = sw;
    return 0;
}
// the window of output (p, q): the in-bounds inputs, row-major; max mode: the maximum (NaN propagates), avg modes: the
// mean over the in-bounds count (2: exclude padding) or the whole window (1: include padding)
static int pool_window(const Pool* pl, const Tensor* xd, int n, int c, int p, int q, long* idx) {
    int m = 0;
    for (int r = 0; r < pl->win[0]; r++) for (int s = 0; s < pl->win[1]; s++) {
        int ih = p * pl->stride[0] - pl->pad[0] + r, iw = q * pl->stride[1] - pl->pad[1] + s;
        if (ih >= 0 && ih < xd->dims[2] && iw >= 0 && iw < xd->dims[3]) idx[m++] = at(xd, n, c, ih, iw);
    }
    return m;
}
static int pooled_dims_ok(const Pool* pl, const Tensor* xd, const Tensor* yd) {
    for (int d = 0; d < 2; d++) {
        int out = (xd->dims[2 + d] + 2 * pl->pad[d] - pl->win[d]) / pl->stride[d] + 1;
        if (yd->dims[2 + d] != out) return 0;
    }
    return xd->dims[0] == yd->dims[0] && xd->dims[1] == yd->dims[1];
}
int cudnnPoolingForward(void* h, Pool* pl, const float* alpha, Tensor* xd, const float* x, const float* beta, Tensor* yd, float* y) {
    if (!pooled_dims_ok(pl, xd, yd)) return 3;
    long idx[1024];
    if ((long) pl->win[0] * pl->win[1] > 1024) return 9;   // CUDNN_STATUS_NOT_SUPPORTED, in the fake only
    for (int n = 0; n < yd->dims[0]; n++) for (int c = 0; c < yd->dims[1]; c++) for (int p = 0; p < yd->dims[2]; p++) for (int q = 0; q < yd->dims[3]; q++) {
        int m = pool_window(pl, xd, n, c, p, q, idx);
        double v;
        if (pl->mode == 0 || pl->mode == 3) {
            v = -INFINITY;
            for (int i = 0; i < m; i++) { float e = x[idx[i]]; if (e != e) { v = e; break; } if (e > v) v = e; }
        } else {
            double sum = 0;
            for (int i = 0; i < m; i++) sum += x[idx[i]];
            int count = pl->mode == 1 ? pl->win[0] * pl->win[1] : m;
            v = count == 0 ? 0 : sum / count;
        }
        long o = at(yd, n, c, p, q);
        y[o] = (float) (*alpha * v + (*beta == 0 ? 0 : *beta * y[o]));
    }
    fake_cudnn_calls++; return 0;
}
// dx: max routes dy to the window's first element (row-major) equal to y; average spreads dy / count over the window
int cudnnPoolingBackward(void* h, Pool* pl, const float* alpha, Tensor* yd, const float* y, Tensor* dyd, const float* dy,
                         Tensor* xd, const float* x, const float* beta, Tensor* dxd, float* dx) {
    if (!pooled_dims_ok(pl, xd, yd)) return 3;
    long total = count(dxd), idx[1024];
    if ((long) pl->win[0] * pl->win[1] > 1024) return 9;
    double* acc = calloc(total, sizeof(double));
    // acc is indexed by dx's offsets (the same layout as x here): Kiln passes one descriptor for both
    for (int n = 0; n < yd->dims[0]; n++) for (int c = 0; c < yd->dims[1]; c++) for (int p = 0; p < yd->dims[2]; p++) for (int q = 0; q < yd->dims[3]; q++) {
        int m = pool_window(pl, xd, n, c, p, q, idx);
        float g = dy[at(dyd, n, c, p, q)], top = y[at(yd, n, c, p, q)];
        if (pl->mode == 0 || pl->mode == 3) {
            for (int i = 0; i < m; i++) if (x[idx[i]] == top) { acc[idx[i]] += g; break; }
        } else {
            int cnt = pl->mode == 1 ? pl->win[0] * pl->win[1] : m;
            for (int i = 0; i < m; i++) acc[idx[i]] += (double) g / cnt;
        }
    }
    for (long i = 0; i < total; i++) { long o = offset(dxd, i); dx[o] = (float) (*alpha * acc[o] + (*beta == 0 ? 0 : *beta * dx[o])); }
    free(acc);
    fake_cudnn_calls++; return 0;
}
// instance mode: over each n's c·h·w values; accurate (1) subtracts the maximum first; log (2) gives x - max - log Σ exp
int cudnnSoftmaxForward(void* h, int algo, int mode, const float* alpha, Tensor* xd, const float* x, const float* beta, Tensor* yd, float* y) {
    if (mode != 0 || algo < 0 || algo > 2) return 3;
    long per = count(xd) / xd->dims[0];
    for (int n = 0; n < xd->dims[0]; n++) {
        double mx = -INFINITY, sum = 0;
        for (long i = 0; i < per; i++) { double e = x[offset(xd, n * per + i)]; if (algo != 0 && e > mx) mx = e; }
        if (algo == 0) mx = 0;
        for (long i = 0; i < per; i++) sum += exp(x[offset(xd, n * per + i)] - mx);
        for (long i = 0; i < per; i++) {
            double e = x[offset(xd, n * per + i)] - mx, v = algo == 2 ? e - log(sum) : exp(e) / sum;
            long o = offset(yd, n * per + i);
            y[o] = (float) (*alpha * v + (*beta == 0 ? 0 : *beta * y[o]));
        }
    }
    fake_cudnn_calls++; return 0;
}
// spatial mode: per channel c (dims[1]) over n, h, w; statistics and scale from bnd's [1, C, 1, 1]
int cudnnBatchNormalizationForwardInference(void* h, int mode, const float* alpha, const float* beta, Tensor* xd, const float* x, Tensor* yd, float* y,
                                            Tensor* bnd, const float* scale, const float* bias, const float* mean, const float* var, double eps) {
    if (mode != 1 || bnd->dims[0] != 1 || bnd->dims[1] != xd->dims[1] || bnd->dims[2] != 1 || bnd->dims[3] != 1 || eps < 0) return 3;
    for (int n = 0; n < xd->dims[0]; n++) for (int c = 0; c < xd->dims[1]; c++) for (int p = 0; p < xd->dims[2]; p++) for (int q = 0; q < xd->dims[3]; q++) {
        long s = at(bnd, 0, c, 0, 0), o = at(yd, n, c, p, q);
        double v = ((double) x[at(xd, n, c, p, q)] - mean[s]) / sqrt((double) var[s] + eps) * scale[s] + bias[s];
        y[o] = (float) (*alpha * v + (*beta == 0 ? 0 : *beta * y[o]));
    }
    fake_cudnn_calls++; return 0;
}
// training backward, spatial mode: per channel c over its m = n·h·w values; savedMean and savedInvVariance NULL (both
// or neither, as documented) means recompute the batch's mean and biased variance from x with eps; then
//   dx = alphaData·(gamma·invstd/m·(m·dy - Σdy - xhat·Σ(dy·xhat))) + betaData·dx, dScale = Σ dy·xhat, dBias = Σ dy
// (alphaParam/betaParam likewise; beta 0 never reads the old value)
int cudnnBatchNormalizationBackward(void* h, int mode, const float* alphaData, const float* betaData, const float* alphaParam, const float* betaParam,
                                    Tensor* xd, const float* x, Tensor* dyd, const float* dy, Tensor* dxd, float* dx,
                                    Tensor* bnd, const float* scale, float* dScale, float* dBias, double eps, const float* savedMean, const float* savedInvVar) {
    if (mode != 1 || bnd->dims[0] != 1 || bnd->dims[1] != xd->dims[1] || bnd->dims[2] != 1 || bnd->dims[3] != 1 || eps < 0) return 3;
    if ((savedMean == NULL) != (savedInvVar == NULL) || dScale == NULL || dBias == NULL) return 3;
    for (int a = 0; a < 4; a++) if (dyd->dims[a] != xd->dims[a] || dxd->dims[a] != xd->dims[a]) return 3;
    long m = (long) xd->dims[0] * xd->dims[2] * xd->dims[3];
    for (int c = 0; c < xd->dims[1]; c++) {
        long s = at(bnd, 0, c, 0, 0);
        double mean = 0, var = 0, invstd, sdy = 0, sdyx = 0;
        if (savedMean == NULL) {
            for (int n = 0; n < xd->dims[0]; n++) for (int p = 0; p < xd->dims[2]; p++) for (int q = 0; q < xd->dims[3]; q++) mean += x[at(xd, n, c, p, q)];
            mean /= m;
            for (int n = 0; n < xd->dims[0]; n++) for (int p = 0; p < xd->dims[2]; p++) for (int q = 0; q < xd->dims[3]; q++) {
                double d = x[at(xd, n, c, p, q)] - mean; var += d * d;
            }
            invstd = 1 / sqrt(var / m + eps);
        } else { mean = savedMean[s]; invstd = savedInvVar[s]; }
        for (int n = 0; n < xd->dims[0]; n++) for (int p = 0; p < xd->dims[2]; p++) for (int q = 0; q < xd->dims[3]; q++) {
            double g = dy[at(dyd, n, c, p, q)];
            sdy += g; sdyx += g * (x[at(xd, n, c, p, q)] - mean) * invstd;
        }
        for (int n = 0; n < xd->dims[0]; n++) for (int p = 0; p < xd->dims[2]; p++) for (int q = 0; q < xd->dims[3]; q++) {
            double xhat = (x[at(xd, n, c, p, q)] - mean) * invstd;
            double v = scale[s] * invstd / m * (m * (double) dy[at(dyd, n, c, p, q)] - sdy - xhat * sdyx);
            long o = at(dxd, n, c, p, q);
            dx[o] = (float) (*alphaData * v + (*betaData == 0 ? 0 : *betaData * dx[o]));
        }
        dScale[s] = (float) (*alphaParam * sdyx + (*betaParam == 0 ? 0 : *betaParam * dScale[s]));
        dBias[s] = (float) (*alphaParam * sdy + (*betaParam == 0 ? 0 : *betaParam * dBias[s]));
    }
    fake_cudnn_calls++; return 0;
}
