package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

import static dev.kiln.graph.Ops.reshape;

/** Same elements in row-major order, new shape. Free on every backend (a view). */
public record View(Shape to) implements Movement {
    public String name() { return "reshape"; }
    public int arity() { return 1; }
    public Shape inferShape(List<Shape> in) {
        if (in.get(0).size() != to.size()) throw new IllegalArgumentException("cannot reshape " + in.get(0) + " (" + in.get(0).size() + " elements) to " + to + " (" + to.size() + " elements)");
        return to;
    }
    public List<Node> gradient(Node out, Node g) { return List.of(reshape(g, out.input(0).shape())); }
}
