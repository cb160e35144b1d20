package dev.kiln.nn;

/**
 * A plain stack of layers, each feeding the next.
 *
 * <pre>{@code
 * Model model = Sequential.of(Input.shape(28, 28, 1),
 *     Conv2D.of(32, 3).relu().same(), MaxPool2D.of(2),
 *     Flatten.of(), Dense.of(64).relu(), Dropout.of(0.2), Dense.of(10).softmax());
 * }</pre>
 */
public final class Sequential {
    private Sequential() {}

    public static Model of(Symbol input, Layer... layers) {
        if (!input.isInput()) throw new IllegalArgumentException("Sequential.of starts with Input.shape(...), got " + input);
        Symbol s = input;
        for (Layer l : layers) {
            if (l instanceof MergeLayer) throw new IllegalArgumentException(l.type() + " takes several inputs: build the model with Model.of(inputs, outputs)");
            s = l.apply(s);
        }
        return new Model("sequential", java.util.List.of(input), java.util.List.of(s));
    }
}
