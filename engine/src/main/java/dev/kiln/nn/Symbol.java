package dev.kiln.nn;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * A symbolic value in a functional model: the output of {@code layer} applied to {@code parents},
 * or a model input (layer null). Shapes are per example.
 *
 * <pre>{@code
 * Symbol in = Input.shape(11);
 * Symbol out = Dense.of(1).apply(Dense.of(64).relu().apply(in));
 * Model m = Model.of(in, out);
 * }</pre>
 */
public record Symbol(Layer layer, List<Symbol> parents, Shape shape, String inputName) {
    public Symbol { parents = List.copyOf(parents); }

    public boolean isInput() { return layer == null; }

    @Override public boolean equals(Object o) { return this == o; }
    @Override public int hashCode() { return System.identityHashCode(this); }
    @Override public String toString() { return (isInput() ? "Input(" + inputName + ")" : layer.name()) + shape; }
}
