package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/** Expands a tensor to a larger shape under NumPy broadcasting rules. */
public record Broadcast(Shape to) implements Movement {
    public String name() { return "broadcast"; }
    public int arity() { return 1; }
    public Shape inferShape(List<Shape> in) {
        Shape r = Shape.broadcastOrNull(in.get(0), to);
        if (r == null || !r.equals(to)) throw new IllegalArgumentException("cannot broadcast " + in.get(0) + " to " + to);
        return to;
    }
    public List<Node> gradient(Node out, Node g) { return List.of(g); } // autodiff reduces g to the input's shape
}
