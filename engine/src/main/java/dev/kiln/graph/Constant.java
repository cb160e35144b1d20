package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * A constant tensor with data (eager values, folded constants). Compared by identity: two
 * constants with the same numbers are still two nodes, which keeps CSE cheap and honest.
 */
public record Constant(Shape shape, float[] data) implements Leaf {
    public Constant {
        if (data.length != shape.size()) throw new IllegalArgumentException("constant of shape " + shape + " needs " + shape.size() + " values, got " + data.length);
    }
    public String name() { return "constant"; }
    public int arity() { return 0; }
    public Shape inferShape(List<Shape> inputs) { return shape; }
    public List<Node> gradient(Node out, Node g) { return List.of(); }
    @Override public boolean equals(Object o) { return this == o; }
    @Override public int hashCode() { return System.identityHashCode(this); }
    @Override public String toString() { return "Constant" + shape; }
}
