package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.graph.Ops.*;

/** y = cond != 0 ? a : b, elementwise with broadcasting. */
public record Where() implements Elementwise {
    public String name() { return "where"; }
    public int arity() { return 3; }
    public Shape inferShape(List<Shape> in) { return Shape.broadcast(in.get(0), Shape.broadcast(in.get(1), in.get(2))); }
    public List<Node> gradient(Node out, Node g) {
        Node c = out.input(0);
        Node zero = zerosLike(g);
        return Arrays.asList(null, where(c, g, zero), where(c, zero, g));
    }
}
