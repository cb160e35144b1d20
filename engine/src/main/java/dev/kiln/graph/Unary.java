package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/** y = fn(x), elementwise. */
public record Unary(UnaryFn fn) implements Elementwise {
    public String name() { return fn.lowerName(); }
    public int arity() { return 1; }
    public Shape inferShape(List<Shape> in) { return in.get(0); }
    public List<Node> gradient(Node out, Node g) { return List.of(fn.gradient(out.input(0), out, g)); }
}
