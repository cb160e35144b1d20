// Binary elementwise ops with NumPy broadcasting over up to 4 dimensions. The launcher right-aligns
// both operands' shapes to the output's [d0, d1, d2, d3] and passes each operand's element strides,
// 0 along an axis it is broadcast over, so a row vector, a column vector or a scalar needs no copy.
// op: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min. max/min propagate NaN and order -0 below +0, as
// Java's Math.max/min and the CPU backend do (fmaxf/fminf would drop the NaN).

__device__ __forceinline__ float kiln_binary(int op, float a, float b) {
    switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 3: return a / b;
        case 4: return (a != a || b != b) ? a + b : (a == b ? (__float_as_int(a) < 0 ? b : a) : fmaxf(a, b));
        default: return (a != a || b != b) ? a + b : (a == b ? (__float_as_int(a) < 0 ? a : b) : fminf(a, b));
    }
}

extern "C" __global__ void kiln_binary_broadcast_f32(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                                                     int op, int d0, int d1, int d2, int d3,
                                                     int sa0, int sa1, int sa2, int sa3, int sb0, int sb1, int sb2, int sb3) {
    const long long n = (long long) d0 * d1 * d2 * d3;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long r = i;
        const int i3 = (int) (r % d3); r /= d3;
        const int i2 = (int) (r % d2); r /= d2;
        const int i1 = (int) (r % d1);
        const int i0 = (int) (r / d1);
        const long long ia = (long long) i0 * sa0 + (long long) i1 * sa1 + (long long) i2 * sa2 + (long long) i3 * sa3;
        const long long ib = (long long) i0 * sb0 + (long long) i1 * sb1 + (long long) i2 * sb2 + (long long) i3 * sb3;
        out[i] = kiln_binary(op, a[ia], b[ib]);
    }
}
