package dev.kiln.compile;

import dev.kiln.graph.UnaryFn;

/**
 * What the matrix products (matmul, dense layers, convolutions and their backward products) read: the one
 * precision setting of a model ({@code model.compile(optimizer, loss, Precision.BF16, metrics...)}), Keras's
 * mixed-precision policy in one word.
 *
 * <p>Whatever the setting, weights (the "master" copy), optimizer state, accumulation, batch-norm statistics,
 * softmax and the loss stay f32: only the two operands of each product are rounded, by the {@link AutoCast} pass,
 * to the format a tensor core reads, and the product of two rounded values accumulates in f32 — what tensor
 * cores compute, up to f32-level differences of the algorithm (summation order; the CPU's Winograd convolution). The CPU backend runs that rounding as an exact emulation; the
 * CUDA backend runs the products on tensor cores (cuBLAS's TF32 tensor-op math on the pre-rounded values).
 *
 * <pre>{@code
 * model.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy(), Precision.BF16, Metric.accuracy());
 * }</pre>
 */
public enum Precision {
    /** Exact f32 products: the CPU's default, and the switch that turns TF32 off on a GPU. */
    F32(null, false),
    /** Operands rounded to 10 mantissa bits (f32's range): the GPU's default for f32 models, as PyTorch's allow_tf32. */
    TF32(UnaryFn.ROUND_TF32, false),
    /** bf16 operands (7 mantissa bits, f32's range): Keras's "mixed_bfloat16"; its range needs no loss scaling. */
    BF16(UnaryFn.ROUND_BF16, false),
    /** fp16 operands (10 mantissa bits, largest 65504): Keras's "mixed_float16", with dynamic loss scaling. */
    FP16(UnaryFn.ROUND_FP16, true);

    private final UnaryFn rounding;
    private final boolean lossScaling;

    Precision(UnaryFn rounding, boolean lossScaling) {
        this.rounding = rounding;
        this.lossScaling = lossScaling;
    }

    /** The rounding applied to each product operand, or null for exact f32. */
    public UnaryFn rounding() { return rounding; }

    /** Whether training scales the loss dynamically ({@code dev.kiln.nn.LossScale}) so that small gradients survive the format's range. */
    public boolean lossScaling() { return lossScaling; }
}
