// Kiln's hand-written elementwise CUDA kernels. Compiled at run time with NVRTC (and with
// `nvcc -ptx` in the test suite, which checks the entry points below exist). extern "C" keeps the
// names unmangled so the launcher finds them with cuModuleGetFunction.
//
// Every kernel is a grid-stride loop over n elements: any launch size covers any n, so the
// launcher can size grids to the device (a few blocks per SM) rather than to the tensor.
// Scalars that change per step (learning rate, step count) are read from device memory, not
// passed by value, so a whole training step can be captured once as a CUDA graph and replayed.

#define GRID_STRIDE_LOOP(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (long long)gridDim.x * blockDim.x)

// out = max(a + b, 0): the bias-add + ReLU pair, one read of each input and one write.
extern "C" __global__ void kiln_add_relu_f32(const float* __restrict__ a, const float* __restrict__ b,
                                             float* __restrict__ out, long long n) {
    GRID_STRIDE_LOOP(i, n) {
        out[i] = fmaxf(a[i] + b[i], 0.0f);
    }
}

// dx = y > 0 ? dy : 0, where y is the ReLU's output (y > 0 exactly where its input was > 0).
extern "C" __global__ void kiln_relu_backward_f32(const float* __restrict__ y, const float* __restrict__ dy,
                                                  float* __restrict__ dx, long long n) {
    GRID_STRIDE_LOOP(i, n) {
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    }
}

// In-place Adam/AdamW step with the semantics of dev.kiln.graph.AdamUpdate (PyTorch's
// torch.optim.Adam / AdamW):
//   AdamW: p *= 1 - lr*wd          Adam: g += wd*p
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
//   p -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
// lr and t (counting from 1) are one-element device buffers; so is apply_buf, the flag dynamic loss scaling
// computes on the device (0: a skipped step, nothing written), or null for an unconditional step.
extern "C" __global__ void kiln_adam_update_f32(float* __restrict__ p, const float* __restrict__ g,
                                                float* __restrict__ m, float* __restrict__ v,
                                                const float* __restrict__ lr_buf, const float* __restrict__ step_buf,
                                                const float* __restrict__ apply_buf,
                                                float beta1, float beta2, float eps, float weight_decay,
                                                int decoupled, long long n) {
    if (apply_buf != nullptr && *apply_buf == 0.0f) return;   // a skipped step (null: always applied)
    const float lr = *lr_buf;
    const float t = *step_buf;
    const float step_size = lr / (1.0f - powf(beta1, t));
    const float inv_sqrt_bc2 = rsqrtf(1.0f - powf(beta2, t));
    GRID_STRIDE_LOOP(i, n) {
        float pi = p[i];
        float gi = g[i];
        if (decoupled) pi *= 1.0f - lr * weight_decay;
        else gi += weight_decay * pi;
        const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}
