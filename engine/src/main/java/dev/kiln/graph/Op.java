package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * An operation of the graph, declared once: its name and shape inference, and — in {@link Interpreter} — its
 * scalar reference meaning. Every op belongs to exactly one of three sealed families:
 * <ul>
 *   <li>{@link Primitive}: what users and layers build and autodiff sees; each has a gradient rule.</li>
 *   <li>{@link Lowered}: what the compiler makes after autodiff ({@link Linear}, {@link ConvBias}, {@link Fused});
 *       no gradient, so autodiff cannot be handed one.</li>
 *   <li>{@link Effect}: in-place updates of variables ({@link SgdUpdate}, {@link AdamUpdate}, {@link Assign});
 *       no value, run after every value of the graph.</li>
 * </ul>
 * Backends lower ops with an exhaustive switch over the concrete records (or over the three families), so a
 * new op does not compile until every backend handles it.
 *
 * <p>Attributes are record components (never arrays), so equal ops compare equal, which CSE uses.
 */
public sealed interface Op permits Primitive, Lowered, Effect {

    /** Short lower-case name used in dumps and error messages. */
    String name();

    /** The output shape for these input shapes; throws {@link dev.kiln.tensor.ShapeException} naming them. */
    Shape inferShape(List<Shape> inputs);

    /** Number of inputs, or -1 when variadic. */
    int arity();
}
