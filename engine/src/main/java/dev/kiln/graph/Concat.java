package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.graph.Ops.slice;

/** Joins inputs along {@code axis}; all other dimensions must agree. */
public record Concat(int axis) implements Movement {
    public String name() { return "concat"; }
    public int arity() { return -1; }
    public Shape inferShape(List<Shape> in) {
        if (in.isEmpty()) throw new IllegalArgumentException("concat needs at least one input");
        Shape first = in.get(0);
        if (axis < 0 || axis >= first.rank()) throw new IllegalArgumentException("axis " + axis + " is out of range for " + first);
        int total = 0;
        for (Shape s : in) {
            if (s.rank() != first.rank()) throw new IllegalArgumentException("ranks differ: " + first + " and " + s);
            for (int i = 0; i < s.rank(); i++) {
                if (i != axis && s.dim(i) != first.dim(i)) throw new IllegalArgumentException("dimension " + i + " differs: " + first + " and " + s);
            }
            total += s.dim(axis);
        }
        return first.withDim(axis, total);
    }
    public List<Node> gradient(Node out, Node g) {
        List<Node> grads = new ArrayList<>();
        int offset = 0;
        for (Node in : out.inputs()) {
            List<Integer> s = new ArrayList<>(), e = new ArrayList<>();
            for (int i = 0; i < in.shape().rank(); i++) {
                s.add(i == axis ? offset : 0);
                e.add(i == axis ? offset + in.shape().dim(i) : in.shape().dim(i));
            }
            grads.add(slice(g, s, e));
            offset += in.shape().dim(axis);
        }
        return grads;
    }
}
