package dev.kiln.nn;

/**
 * The activation shorthands of a layer that ends in an activation (Dense, Conv2D): declared once here, so
 * every such layer offers the same ones. Each returns a copy, as every wither does.
 *
 * <pre>{@code Dense.of(64).relu()   Conv2D.of(32, 3).tanh()   Dense.of(10).activation(Activation.GELU) }</pre>
 */
public interface ActivationShorthands<L> {
    /** A copy of this layer ending in {@code a}. */
    L activation(Activation a);

    default L relu() { return activation(Activation.RELU); }
    default L sigmoid() { return activation(Activation.SIGMOID); }
    default L tanh() { return activation(Activation.TANH); }
    default L softmax() { return activation(Activation.SOFTMAX); }
    default L elu() { return activation(Activation.ELU); }
    default L gelu() { return activation(Activation.GELU); }
}
