package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/** Reads a {@link Variable} (a weight or an optimizer slot); the value lives with the variable. */
public record Param(Variable variable) implements Leaf {
    public String name() { return "param"; }
    public int arity() { return 0; }
    public Shape inferShape(List<Shape> inputs) { return variable.shape(); }
    public List<Node> gradient(Node out, Node g) { return List.of(); }
}
