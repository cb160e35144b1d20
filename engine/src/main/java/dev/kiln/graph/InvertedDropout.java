package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.Arrays;
import java.util.List;

/**
 * Inverted dropout: y = x · keep / (1 - rate), keep drawn per element from Philox4x32-10 keyed by
 * {@code seed} and counted by the element index and the scalar {@code step} input, so every step
 * draws a new mask without state, and the gradient (the same op on g) sees the same mask.
 * Inputs: x, step (a scalar). See {@link Philox#keep}.
 */
public record InvertedDropout(double rate, long seed) implements Primitive {
    public InvertedDropout {
        if (!(rate >= 0 && rate < 1)) throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + rate);
    }
    public String name() { return "dropout"; }
    public int arity() { return 2; }
    public Shape inferShape(List<Shape> in) {
        if (in.get(1).size() != 1) throw new IllegalArgumentException("the step input must be a scalar, got " + in.get(1));
        return in.get(0);
    }
    public List<Node> gradient(Node out, Node g) { return Arrays.asList(Ops.dropout(g, out.input(1), this), null); }
}
