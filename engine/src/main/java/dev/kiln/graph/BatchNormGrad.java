package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * dx of a training {@link BatchNorm} (statistics = the batch's own, {@code batchStatistics}), through the statistics:
 * with m rows per channel, xhat = (x - mean)·invStd, invStd = (var + eps)^-1/2,
 * {@code dx = gamma·invStd / m · (m·dy - Σdy - xhat·Σ(dy·xhat))}, sums over the rows of each channel.
 * Inputs: x [..., C], dy [..., C], mean [C], var [C] (biased), gamma [C].
 * One op where CUDA has one kernel or cuDNN call (cudnnBatchNormalizationBackward); the compiler's
 * {@code expand_batch_norm_grad} pass turns it back into the composed ops for backends without one (the CPU). Where it
 * stays one op, {@code batch_norm_grad_of_centered} hands it x - mean (which the variance already computed) and a zero
 * mean in place of x and mean, so that x need not stay live until the backward pass.
 */
public record BatchNormGrad(double epsilon) implements Primitive {
    public String name() { return "batch_norm_grad"; }
    public int arity() { return 5; }

    public Shape inferShape(List<Shape> in) {
        Shape x = in.get(0);
        if (!in.get(1).equals(x)) throw new IllegalArgumentException("dy has shape " + in.get(1) + ", expected x's " + x);
        Shape c = Shape.of(x.dim(-1));
        for (int i = 2; i < 5; i++) {
            if (!in.get(i).equals(c)) throw new IllegalArgumentException("mean, var and gamma must have shape " + c + " (the channel axis), got " + in.get(i));
        }
        return x;
    }

    public List<Node> gradient(Node out, Node g) {
        throw new UnsupportedOperationException("second derivative of batch norm in training is not supported (" + out.describe()
                + "); differentiate the composed form instead (BatchNorm with batchStatistics false)");
    }
}
