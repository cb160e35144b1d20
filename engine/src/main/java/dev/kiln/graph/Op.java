package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * A primitive operation, declared once: its name, shape inference, gradient rule (composed of
 * other ops) and — in {@link Interpreter} — its scalar reference meaning. Backends lower ops with
 * an exhaustive switch, so a new op does not compile until every backend handles it.
 *
 * <p>Attributes are record components (never arrays), so equal ops compare equal, which CSE uses.
 */
public sealed interface Op
        permits Placeholder, Param, Full, Constant,
                Unary, Binary, Where,
                Reduce,
                View, Transpose, Broadcast, Slice, Concat, Pad,
                MatMul, Linear, Conv2d, ConvBias, Conv2dBackwardData, Conv2dBackwardFilter,
                Pool2d, Pool2dGrad, BatchNorm, InvertedDropout, Softmax, SoftmaxCrossEntropy, OneHot,
                SgdUpdate, AdamUpdate, Assign,
                Fused {

    /** Short lower-case name used in dumps and error messages. */
    String name();

    /** The output shape for these input shapes; throws {@link dev.kiln.tensor.ShapeException} naming them. */
    Shape inferShape(List<Shape> inputs);

    /**
     * Gradients of the output with respect to each input, given the output node and the incoming
     * gradient {@code g} (same shape as the output). An entry is {@code null} where the op is not
     * differentiable in that input (indices, RNG steps). Broadcasting inputs may receive gradients of
     * the broadcast shape; autodiff reduces them.
     */
    List<Node> gradient(Node out, Node g);

    /** Ops that update variables in place (optimizer steps) rather than produce a value. */
    default boolean isEffect() { return false; }

    /** For an in-place update: the inputs it writes (each must read a variable). Empty for value ops. */
    default List<Integer> writes() { return List.of(); }

    /** Number of inputs, or -1 when variadic. */
    int arity();
}
