// Optimizer updates in place, with PyTorch's numerics as the engine's Interpreter and RMSprop write
// them (torch.optim.SGD, torch.optim.RMSprop). Adam/AdamW live in elementwise.cu. The learning rate
// is a one-element device buffer so a captured CUDA graph follows a schedule. Optional state
// buffers are null pointers when their feature is off.

#define GRID_STRIDE_LOOP(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (long long)gridDim.x * blockDim.x)

// g' = g + wd*p;  v = mu*v + g';  d = nesterov ? g' + mu*v : v  (g' when mu == 0);  p -= lr*d
extern "C" __global__ void kiln_sgd_update_f32(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ velocity,
                                               const float* __restrict__ lr_buf, float momentum, float weight_decay,
                                               int nesterov, long long n) {
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

// g' = g + wd*p;  s = a*s + (1-a)*g'^2;  centered: c = a*c + (1-a)*g', d = sqrt(s - c^2) + eps, else d = sqrt(s) + eps;
// momentum: b = mu*b + g'/d, p -= lr*b;  else p -= lr*g'/d
extern "C" __global__ void kiln_rmsprop_update_f32(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ square_avg,
                                                   float* __restrict__ grad_avg, float* __restrict__ momentum_buf,
                                                   const float* __restrict__ lr_buf, float alpha, float eps, float momentum,
                                                   float weight_decay, long long n) {
    const float lr = *lr_buf;
    GRID_STRIDE_LOOP(i, n) {
        const float gi = g[i] + weight_decay * p[i];
        const float s = alpha * square_avg[i] + (1.0f - alpha) * gi * gi;
        square_avg[i] = s;
        float d;
        if (grad_avg != nullptr) {
            const float c = alpha * grad_avg[i] + (1.0f - alpha) * gi;
            grad_avg[i] = c;
            d = sqrtf(s - c * c) + eps;
        } else {
            d = sqrtf(s) + eps;
        }
        if (momentum_buf != nullptr) {
            const float b = momentum * momentum_buf[i] + gi / d;
            momentum_buf[i] = b;
            p[i] -= lr * b;
        } else {
            p[i] -= lr * gi / d;
        }
    }
}
