package dev.kiln.graph;

/**
 * Rounding an f32 value to the lower-precision formats tensor cores read, keeping it in an f32: the meaning of
 * {@link UnaryFn#ROUND_BF16}, {@link UnaryFn#ROUND_FP16} and {@link UnaryFn#ROUND_TF32}. Every rounding is to
 * nearest, ties to even (IEEE's default and what {@code __float2bfloat16_rn}/{@code __float2half_rn} do).
 * <ul>
 *   <li>bf16: 8 exponent bits (f32's range), 7 stored mantissa bits.</li>
 *   <li>tf32: 8 exponent bits, 10 stored mantissa bits.</li>
 *   <li>fp16: 5 exponent bits, 10 stored mantissa bits: largest finite 65504 (at least 65520 rounds to infinity),
 *       subnormals down to 2^-24 (a multiple of 2^-24 below 2^-14).</li>
 * </ul>
 * NaN stays NaN and infinities stay themselves. The CPU kernels and the CUDA generator use these same steps
 * (bit operations on the f32 pattern, and one add-subtract for fp16 subnormals) so all agree bit for bit.
 */
public final class Rounding {
    private Rounding() {}

    /** Stored mantissa bits of bf16, tf32 and fp16. */
    public static final int BF16_BITS = 7, TF32_BITS = 10, FP16_BITS = 10;
    /** Largest finite fp16 value, and the smallest normal one (2^-14). */
    public static final float FP16_MAX = 65504f, FP16_MIN_NORMAL = 0x1p-14f;
    /**
     * Adding and subtracting this rounds a value below 2^-14 in magnitude to a multiple of 2^-24 (fp16's
     * subnormal step), ties to even: the sum lies in [0.5, 1), where the f32 ulp is 2^-24, and 0.75 is an even
     * multiple of it.
     */
    public static final float FP16_SUBNORMAL_SHIFT = 0.75f;

    public static float bf16(float x) { return keepMantissa(x, BF16_BITS); }

    public static float tf32(float x) { return keepMantissa(x, TF32_BITS); }

    public static float fp16(float x) {
        // the sign is copied back so that a value rounding to zero keeps it (-1e-9 gives -0, as the hardware)
        if (Math.abs(x) < FP16_MIN_NORMAL) return Math.copySign((x + FP16_SUBNORMAL_SHIFT) - FP16_SUBNORMAL_SHIFT, x);
        float r = keepMantissa(x, FP16_BITS);
        return Math.abs(r) > FP16_MAX ? Math.copySign(Float.POSITIVE_INFINITY, x) : r;
    }

    /**
     * {@code x} rounded to {@code bits} stored mantissa bits (of f32's 23), ties to even, exponent range kept:
     * add half an ulp of the shorter format less one, plus the bit that will become its last (so ties go to
     * even), then clear the dropped bits. A carry out of the mantissa raises the exponent, which is right
     * (and makes the largest values round to infinity).
     */
    public static float keepMantissa(float x, int bits) {
        if (Float.isNaN(x)) return x;
        int drop = 23 - bits;
        int b = Float.floatToRawIntBits(x);
        b += ((1 << (drop - 1)) - 1) + ((b >>> drop) & 1);
        return Float.intBitsToFloat(b & -(1 << drop));
    }
}
