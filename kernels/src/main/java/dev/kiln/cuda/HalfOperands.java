package dev.kiln.cuda;

import dev.kiln.cuda.ffi.Cublas;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Linear;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Node;
import dev.kiln.graph.Op;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;

import java.util.List;

/**
 * 16-bit GEMM operands for bf16/fp16 mixed precision. A product (MatMul, Linear) whose two operands are both made by
 * the same rounding (the AutoCast pass's ROUND_BF16 or ROUND_FP16, alone or ending a fused chain) reads them from
 * 16-bit copies: a cast kernel writes each rounded f32 operand's bits ({@link KernelGenerator#castHalf}) and
 * cublasGemmEx multiplies them with f32 accumulation into the f32 output. A rounded value converts exactly, so the
 * products are those of the f32 GEMM over the rounded operands; the master weights, gradients and everything else stay
 * f32. The program's products run one after another on its stream, so one scratch block serves them all: the first
 * operand's copy at 0, the second's after it, each as large as the largest of its kind. Sized before the program is
 * lowered ({@link #plan}), allocated with the program's buffers, bound before the launches are ({@link #bind}).
 */
final class HalfOperands {
    /** What the 16-bit path changes in a program: its products, their operand bytes in f32 and in 16 bits, the scratch. */
    record Footprint(int gemms, long f32OperandBytes, long halfOperandBytes, long scratchBytes) {}

    static final long ALIGN = 256;

    private final int gemms;
    private final long firstElements, secondElements, operandElements;
    private long address;

    private HalfOperands(int gemms, long firstElements, long secondElements, long operandElements) {
        this.gemms = gemms;
        this.firstElements = firstElements;
        this.secondElements = secondElements;
        this.operandElements = operandElements;
    }

    /** The scratch the products among {@code nodes} need; none when {@code enabled} is false. */
    static HalfOperands plan(List<Node> nodes, boolean enabled) {
        int gemms = 0;
        long first = 0, second = 0, all = 0;
        for (Node n : enabled ? nodes : List.<Node>of()) {
            if (rounding(n) == null) continue;
            long a = n.input(0).shape().size(), b = n.input(1).shape().size();
            gemms++;
            first = Math.max(first, a);
            second = Math.max(second, b);
            all += a + b;
        }
        return new HalfOperands(gemms, first, second, all);
    }

    /**
     * ROUND_BF16 or ROUND_FP16 when {@code product} is a GEMM both of whose operands that rounding makes (then it reads
     * 16-bit copies), else null (f32 operands, sgemm).
     */
    static UnaryFn rounding(Node product) {
        if (!(product.op() instanceof MatMul || product.op() instanceof Linear)) return null;
        UnaryFn a = madeBy(product.input(0).op()), b = madeBy(product.input(1).op());
        return a != null && a == b && (a == UnaryFn.ROUND_BF16 || a == UnaryFn.ROUND_FP16) ? a : null;
    }

    /** The unary fn whose result an op's output is: the op itself, or a fused chain's last step. */
    private static UnaryFn madeBy(Op op) {
        if (op instanceof Unary u) return u.fn();
        if (op instanceof Fused f && f.steps().getLast().op() instanceof Unary u) return u.fn();
        return null;
    }

    /** cublasGemmEx's operand type for a rounding {@link #rounding} returned. */
    static int cudaType(UnaryFn rounding) {
        return switch (rounding) {
            case ROUND_BF16 -> Cublas.CUDA_R_16BF;
            case ROUND_FP16 -> Cublas.CUDA_R_16F;
            default -> throw new IllegalArgumentException(rounding + " has no 16-bit storage");
        };
    }

    long bytes() { return gemms == 0 ? 0 : secondOffset() + 2 * secondElements; }

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

    Footprint footprint() { return new Footprint(gemms, 4 * operandElements, 2 * operandElements, bytes()); }
}
