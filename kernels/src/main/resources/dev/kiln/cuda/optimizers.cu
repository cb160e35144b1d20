// SGD's fused update in place, with PyTorch's numerics (torch.optim.SGD) as SgdUpdate.step defines
// them. Adam/AdamW live in elementwise.cu; RMSprop is composed of ops (optim/package-info.java). The learning rate
// is a one-element device buffer so a captured CUDA graph follows a schedule. Optional state
// buffers are null pointers when their feature is off. apply_buf (null: always) is a one-element flag on the
// device: where it holds 0 the step writes nothing (dynamic loss scaling's skipped step, decided on the device).

#define GRID_STRIDE_LOOP(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (long long)gridDim.x * blockDim.x)

// g' = g + wd*p;  v = mu*v + g';  d = nesterov ? g' + mu*v : v  (g' when mu == 0);  p -= lr*d
extern "C" __global__ void kiln_sgd_update_f32(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ velocity,
                                               const float* __restrict__ lr_buf, const float* __restrict__ apply_buf,
                                               float momentum, float weight_decay, int nesterov, long long n) {
    if (apply_buf != nullptr && *apply_buf == 0.0f) return;
    const float lr = *lr_buf;
    GRID_STRIDE_LOOP(i, n) {
        const float gi = g[i] + weight_decay * p[i];
        float d = gi;
        if (momentum != 0.0f) {
            const float v = momentum * velocity[i] + gi;
            velocity[i] = v;
            d = nesterov ? gi + momentum * v : v;
        }
        p[i] -= lr * d;
    }
}
