package dev.kiln.graph;

import java.util.List;

/**
 * The ops that graphs are built from and that {@link dev.kiln.autodiff.Autodiff} differentiates: each declares
 * its gradient rule beside its meaning. The compiler's ops ({@link Lowered}) and in-place updates
 * ({@link Effect}) are not primitives and have no gradient method at all.
 */
public sealed interface Primitive extends Op
        permits Leaf, Elementwise, Movement,
                Reduce, MatMul, Conv2d, Conv2dBackwardData, Conv2dBackwardFilter,
                Pool2d, Pool2dGrad, BatchNorm, BatchNormGrad, InvertedDropout, Softmax, SoftmaxCrossEntropy, OneHot {

    /**
     * Gradients of the output with respect to each input, given the output node and the incoming
     * gradient {@code g} (same shape as the output), composed of primitives. An entry is {@code null} where
     * the op is not differentiable in that input (indices, RNG steps). Broadcasting inputs may receive
     * gradients of the broadcast shape; autodiff reduces them.
     */
    List<Node> gradient(Node out, Node g);
}
