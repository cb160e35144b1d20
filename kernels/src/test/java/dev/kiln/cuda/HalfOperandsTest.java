package dev.kiln.cuda;

import dev.kiln.cuda.ffi.Cublas;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.graph.UnaryFn;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

/** Which products {@link HalfOperands} gives 16-bit operands, and the scratch it sizes: no device needed. */
class HalfOperandsTest {
    private static final Node A = input("a", Shape.of(8, 64)), B = input("b", Shape.of(64, 16));

    private static Node round(UnaryFn fn, Node x) { return unary(fn, x); }

    @Test
    void onlyProductsOfTwoOperandsRoundedToOne16BitFormatQualify() {
        HalfOperands on = HalfOperands.plan(List.of(), true, true);
        assertEquals(UnaryFn.ROUND_BF16, on.rounding(matmul(round(UnaryFn.ROUND_BF16, A), round(UnaryFn.ROUND_BF16, B))));
        assertEquals(UnaryFn.ROUND_FP16, on.rounding(matmul(round(UnaryFn.ROUND_FP16, B), round(UnaryFn.ROUND_FP16, A), true, true)));
        assertNull(on.rounding(matmul(round(UnaryFn.ROUND_BF16, A), B)), "one operand not rounded: f32");
        assertNull(on.rounding(matmul(round(UnaryFn.ROUND_BF16, A), round(UnaryFn.ROUND_FP16, B))), "two formats: f32");
        assertNull(on.rounding(matmul(round(UnaryFn.ROUND_TF32, A), round(UnaryFn.ROUND_TF32, B))), "TF32 has no 16-bit storage");
        assertNull(on.rounding(add(round(UnaryFn.ROUND_BF16, A), round(UnaryFn.ROUND_BF16, A))), "not a product");
        assertNull(HalfOperands.plan(List.of(), false, true).rounding(matmul(round(UnaryFn.ROUND_BF16, A), round(UnaryFn.ROUND_BF16, B))),
                "halfGemms(false)");

        Node x = input("x", Shape.of(1, 6, 6, 2)), w = input("w", Shape.of(3, 3, 2, 4));
        Node conv = conv2d(round(UnaryFn.ROUND_BF16, x), round(UnaryFn.ROUND_BF16, w), Conv2d.of(1, Padding.SAME));
        assertEquals(UnaryFn.ROUND_BF16, on.rounding(conv), "a convolution where the plan covers them (no cuDNN)");
        assertNull(HalfOperands.plan(List.of(), true, false).rounding(conv), "a convolution where cuDNN runs them: f32");
        assertEquals(Cublas.CUDA_R_16BF, HalfOperands.cudaType(UnaryFn.ROUND_BF16));
        assertEquals("fp16", HalfOperands.format(UnaryFn.ROUND_FP16));
        assertThrows(IllegalArgumentException.class, () -> HalfOperands.cudaType(UnaryFn.ROUND_TF32));
    }

    @Test
    void theScratchHoldsTheLargestFirstAndSecondOperandsEachAligned() {
        Node small = matmul(round(UnaryFn.ROUND_BF16, input("s", Shape.of(3, 5))), round(UnaryFn.ROUND_BF16, input("t", Shape.of(5, 7))));
        Node big = matmul(round(UnaryFn.ROUND_BF16, A), round(UnaryFn.ROUND_BF16, B));
        Node plain = matmul(A, B);
        HalfOperands h = HalfOperands.plan(List.of(small, big, plain), true, true);
        // first operands: 15 and 512 elements -> 1024 bytes (already aligned); second: 35 and 1024 elements -> 2048 bytes
        assertEquals(new HalfOperands.Footprint(2, 4L * (15 + 35 + 512 + 1024), 2L * (15 + 35 + 512 + 1024), 1024 + 2048), h.footprint());
        HalfOperands odd = HalfOperands.plan(List.of(small), true, true);
        assertEquals(256 + 70, odd.bytes(), "the second copy starts at the next 256-byte boundary after 30 bytes");
        assertThrows(IllegalStateException.class, odd::first, "used before it is allocated");
        odd.bind(1L << 20);
        assertEquals((1L << 20) + 256, odd.second());
        assertEquals(0, HalfOperands.plan(List.of(plain), true, true).bytes(), "no 16-bit product, no scratch");
    }
}
