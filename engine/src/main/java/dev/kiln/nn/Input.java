package dev.kiln.nn;

import dev.kiln.tensor.Shape;

import java.util.List;

/** A model input of a given per-example shape: {@code Input.shape(28, 28, 1)}. */
public final class Input {
    private Input() {}

    public static Symbol shape(int... dims) { return new Symbol(null, List.of(), Shape.of(dims), "input"); }

    public static Symbol named(String name, int... dims) { return new Symbol(null, List.of(), Shape.of(dims), name); }
}
