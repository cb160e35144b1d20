package dev.kiln.cuda;

import dev.kiln.cuda.ffi.Cublas;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Conv2dBackwardData;
import dev.kiln.graph.Conv2dBackwardFilter;
import dev.kiln.graph.ConvBias;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Linear;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Node;
import dev.kiln.graph.Op;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;

import java.util.List;

/**
 * 16-bit GEMM operands for bf16/fp16 mixed precision. A product (MatMul, Linear; convolution passes on Kiln's own kernels,
 * see {@link #plan}) whose two operands are both made by
 * the same rounding (the AutoCast pass's ROUND_BF16 or ROUND_FP16, alone or ending a fused chain) reads them from
 * 16-bit copies: a cast kernel writes each rounded f32 operand's bits ({@link KernelGenerator#castHalf}) and
 * cublasGemmEx multiplies them with f32 accumulation into the f32 output. A rounded value converts exactly, so the
 * products are those of the f32 GEMM over the rounded operands; the master weights, gradients and everything else stay
 * f32 (convolutions: conv.cu's _bf16/_fp16 twins widen each operand as they load it). The program's products run one after another on its stream, so one scratch block serves them all: the first
 * operand's copy at 0, the second's after it, each as large as the largest of its kind. Sized before the program is
 * lowered ({@link #plan}), allocated with the program's buffers, bound before the launches are ({@link #bind}).
 */
final class HalfOperands {
    /** What the 16-bit path changes in a program: its products, their operand bytes in f32 and in 16 bits, the scratch. */
    record Footprint(int products, long f32OperandBytes, long halfOperandBytes, long scratchBytes) {}

    static final long ALIGN = 256;

    private final boolean enabled, convolutions;
    private int products;
    private long firstElements, secondElements, operandElements;
    private long address;

    /**
     * The scratch the products among {@code nodes} need: none unless {@code enabled}; convolution passes too when
     * {@code convolutions} (where they run on Kiln's own kernels, whose _bf16/_fp16 twins read 16-bit operands).
     */
    static HalfOperands plan(List<Node> nodes, boolean enabled, boolean convolutions) {
        HalfOperands h = new HalfOperands(enabled, convolutions);
        for (Node n : nodes) {
            if (h.rounding(n) == null) continue;
            long a = n.input(0).shape().size(), b = n.input(1).shape().size();
            h.products++;
            h.firstElements = Math.max(h.firstElements, a);
            h.secondElements = Math.max(h.secondElements, b);
            h.operandElements += a + b;
        }
        return h;
    }

    private HalfOperands(boolean enabled, boolean convolutions) {
        this.enabled = enabled;
        this.convolutions = convolutions;
    }

    /**
     * ROUND_BF16 or ROUND_FP16 when {@code product} is a product this plan covers and both its operands that rounding
     * makes (then it reads 16-bit copies), else null (f32 operands).
     */
    UnaryFn rounding(Node product) {
        Op op = product.op();
        boolean covered = op instanceof MatMul || op instanceof Linear || convolutions && (op instanceof Conv2d || op instanceof ConvBias
                || op instanceof Conv2dBackwardData || op instanceof Conv2dBackwardFilter);
        if (!enabled || !covered) return null;
        UnaryFn a = madeBy(product.input(0).op()), b = madeBy(product.input(1).op());
        return a != null && a == b && (a == UnaryFn.ROUND_BF16 || a == UnaryFn.ROUND_FP16) ? a : null;
    }

    /** The unary fn whose result an op's output is: the op itself, or a fused chain's last step. */
    private static UnaryFn madeBy(Op op) {
        if (op instanceof Unary u) return u.fn();
        if (op instanceof Fused f && f.steps().getLast().op() instanceof Unary u) return u.fn();
        return null;
    }

    /** The kernel-name suffix of a rounding's 16-bit format: "bf16" or "fp16". */
    static String format(UnaryFn rounding) { return cudaType(rounding) == Cublas.CUDA_R_16BF ? "bf16" : "fp16"; }

    /** cublasGemmEx's operand type for a rounding {@link #rounding} returned. */
    static int cudaType(UnaryFn rounding) {
        return switch (rounding) {
            case ROUND_BF16 -> Cublas.CUDA_R_16BF;
            case ROUND_FP16 -> Cublas.CUDA_R_16F;
            default -> throw new IllegalArgumentException(rounding + " has no 16-bit storage");
        };
    }

    long bytes() { return products == 0 ? 0 : secondOffset() + 2 * secondElements; }

    private long secondOffset() { return (2 * firstElements + ALIGN - 1) / ALIGN * ALIGN; }

    void bind(long deviceAddress) { this.address = deviceAddress; }

    /** The device address of the first operand's 16-bit copy. */
    long first() { return checked(); }

    /** The device address of the second operand's 16-bit copy. */
    long second() { return checked() + secondOffset(); }

    private long checked() {
        if (address == 0) throw new IllegalStateException("the 16-bit GEMM operands (" + bytes() + " bytes) were used before they were allocated");
        return address;
    }

    Footprint footprint() { return new Footprint(products, 4 * operandElements, 2 * operandElements, bytes()); }
}
