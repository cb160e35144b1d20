package dev.kiln.nn;

import dev.kiln.graph.Node;

import static dev.kiln.graph.Ops.*;

/**
 * Activation functions, usable alone ({@code Activation.RELU} as a layer via
 * {@link ActivationLayer}) or as a layer option ({@code Dense.of(64).relu()}).
 * GELU is the tanh approximation (Keras's {@code gelu(approximate=True)}).
 */
public enum Activation {
    LINEAR, RELU, SIGMOID, TANH, SOFTMAX, ELU, GELU;

    public Node apply(Node x) {
        return switch (this) {
            case LINEAR -> x;
            case RELU -> relu(x);
            case SIGMOID -> sigmoid(x);
            case TANH -> tanh(x);
            case SOFTMAX -> softmax(x);
            // elu(x) = x for x > 0, e^x - 1 otherwise; min(x, 0) keeps exp finite on the unused branch
            case ELU -> where(greater(x, scalar(0)), x, sub(exp(minimum(x, scalar(0))), scalar(1)));
            // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            case GELU -> mul(mul(scalar(0.5), x), add(scalar(1), tanh(mul(scalar(Math.sqrt(2 / Math.PI)),
                    add(x, mul(scalar(0.044715), mul(x, mul(x, x))))))));
        };
    }

    public String kerasName() { return name().toLowerCase(); }
}
