package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/** A program input (a batch of features or labels), fed before each run. Names are unique per graph. */
public record Placeholder(String inputName, Shape shape) implements Leaf {
    public String name() { return "input"; }
    public int arity() { return 0; }
    public Shape inferShape(List<Shape> inputs) { return shape; }
    public List<Node> gradient(Node out, Node g) { return List.of(); }
}
