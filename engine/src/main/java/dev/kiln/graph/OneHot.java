package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.Arrays;
import java.util.List;

/** Class indices [...] (whole numbers stored as floats) → one-hot [..., depth]; an index outside [0, depth) is an error naming it. */
public record OneHot(int depth) implements Primitive {
    public OneHot {
        if (depth < 1) throw new IllegalArgumentException("one-hot depth must be >= 1");
    }
    public String name() { return "one_hot"; }
    public int arity() { return 1; }
    public Shape inferShape(List<Shape> in) {
        int[] d = Arrays.copyOf(in.get(0).dims(), in.get(0).rank() + 1);
        d[d.length - 1] = depth;
        return Shape.of(d);
    }
    public List<Node> gradient(Node out, Node g) { return Arrays.asList((Node) null); }
}
