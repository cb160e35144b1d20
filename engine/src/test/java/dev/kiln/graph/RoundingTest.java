package dev.kiln.graph;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The roundings against references that share none of their code: the JDK's own float-to-half conversion
 * (IEEE round to nearest even) for fp16, and {@code Math.rint} on the value divided by its ulp in the shorter
 * format (exact in double, since that ulp is a power of two) for bf16 and tf32. Bit for bit.
 */
class RoundingTest {
    private static final int SAMPLES = 400_000;

    /** x rounded to {@code bits} stored mantissa bits, f32's exponent range, ties to even. */
    private static float reference(float x, int bits) {
        if (x == 0 || Float.isInfinite(x)) return x;
        int e = Math.max(Math.getExponent(x), Float.MIN_EXPONENT);   // subnormals share the smallest normal's step
        double step = Math.scalb(1.0, e - bits);
        return (float) (Math.rint(x / step) * step);                    // beyond MAX_VALUE the cast gives infinity
    }

    private static void same(float expected, float actual, String what) {
        assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(actual), what + ": expected " + expected + " got " + actual);
    }

    @Test
    void fp16MatchesTheJdkHalfConversionForRandomBitPatterns() {
        Random r = new Random(7);
        for (int i = 0; i < SAMPLES; i++) {
            float x = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(x)) { assertTrue(Float.isNaN(Rounding.fp16(x))); continue; }
            same(Float.float16ToFloat(Float.floatToFloat16(x)), Rounding.fp16(x), "fp16(" + x + ")");
        }
    }

    @Test
    void fp16EdgesOfRangeAndSubnormals() {
        same(65504f, Rounding.fp16(65504f), "largest finite");
        same(65504f, Rounding.fp16(65519.99f), "just under the tie");
        same(Float.POSITIVE_INFINITY, Rounding.fp16(65520f), "the tie rounds to even: infinity");
        same(Float.NEGATIVE_INFINITY, Rounding.fp16(-65520f), "negative overflow");
        same(0x1p-24f, Rounding.fp16(0x1p-24f), "smallest subnormal");
        same(0f, Rounding.fp16(0x1p-25f), "half the smallest subnormal ties to even: 0");
        same(0x1p-23f, Rounding.fp16(3 * 0x1p-25f), "1.5 steps ties to even: 2 steps");
        same(-0f, Rounding.fp16(-0x1p-26f), "underflow keeps the sign");
        same(1f, Rounding.fp16(1 + 0x1p-11f), "a tie at 1 rounds to even");
        same(1 + 0x1p-9f, Rounding.fp16(1 + 0x1p-9f + 0x1p-12f), "below the tie rounds down");
    }

    @Test
    void bf16AndTf32MatchRintOnTheirStepForRandomBitPatterns() {
        Random r = new Random(8);
        for (int i = 0; i < SAMPLES; i++) {
            float x = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(x)) { assertTrue(Float.isNaN(Rounding.bf16(x)) && Float.isNaN(Rounding.tf32(x))); continue; }
            same(reference(x, Rounding.BF16_BITS), Rounding.bf16(x), "bf16(" + x + ")");
            same(reference(x, Rounding.TF32_BITS), Rounding.tf32(x), "tf32(" + x + ")");
        }
    }

    @Test
    void bf16TiesGoToEvenAndTheTopRoundsToInfinity() {
        same(1f, Rounding.bf16(1 + 0x1p-8f), "1 + half a bf16 ulp: tie to even 1");
        same(1 + 0x1p-6f, Rounding.bf16(1 + 3 * 0x1p-8f), "1 + 1.5 ulp: tie to even 2 ulp");
        same(Float.POSITIVE_INFINITY, Rounding.bf16(Float.MAX_VALUE), "f32's largest is past bf16's");
        same(Float.POSITIVE_INFINITY, Rounding.bf16(Float.POSITIVE_INFINITY), "infinity stays");
        // a NaN whose payload is only in the dropped bits must not round to infinity
        assertTrue(Float.isNaN(Rounding.bf16(Float.intBitsToFloat(0x7F800001))));
    }

    @Test
    void unaryFnMeaningIsTheRounding() {
        float x = 3.14159265f;
        assertEquals(Rounding.bf16(x), UnaryFn.ROUND_BF16.apply(x), 0.0);
        assertEquals(3.140625, UnaryFn.ROUND_BF16.apply(x), 0.0);   // 1.1001001b × 2
        assertEquals(3.140625, UnaryFn.ROUND_FP16.apply(x), 0.0);   // 1.1001001000b × 2: 10 bits, same here
        assertEquals(1 + 0x1p-10, UnaryFn.ROUND_TF32.apply(1 + 0x1p-11f + 0x1p-12f), 0.0);  // above the tie: up
        assertEquals(1 + 0x1p-7, UnaryFn.ROUND_BF16.apply(1 + 0x1p-8f + 0x1p-12f), 0.0);
    }
}
