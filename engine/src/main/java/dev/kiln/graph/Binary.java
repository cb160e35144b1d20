package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/** y = fn(a, b), elementwise with NumPy broadcasting. */
public record Binary(BinaryFn fn) implements Elementwise {
    public String name() { return fn.lowerName(); }
    public int arity() { return 2; }
    public Shape inferShape(List<Shape> in) { return Shape.broadcast(in.get(0), in.get(1)); }
    public List<Node> gradient(Node out, Node g) { return fn.gradient(out.input(0), out.input(1), out, g); }
}
