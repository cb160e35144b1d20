package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.graph.Ops.slice;

/** Pads every axis with {@code before[i]} and {@code after[i]} copies of {@code value}. */
public record Pad(List<Integer> before, List<Integer> after, double value) implements Movement {
    public Pad { before = List.copyOf(before); after = List.copyOf(after); }
    public String name() { return "pad"; }
    public int arity() { return 1; }
    public Shape inferShape(List<Shape> in) {
        Shape x = in.get(0);
        if (before.size() != x.rank() || after.size() != x.rank()) throw new IllegalArgumentException("padding " + before + "/" + after + " does not fit rank " + x.rank());
        int[] d = new int[x.rank()];
        for (int i = 0; i < d.length; i++) {
            if (before.get(i) < 0 || after.get(i) < 0) throw new IllegalArgumentException("negative padding " + before + "/" + after);
            d[i] = x.dim(i) + before.get(i) + after.get(i);
        }
        return Shape.of(d);
    }
    public List<Node> gradient(Node out, Node g) {
        Shape x = out.input(0).shape();
        List<Integer> end = new ArrayList<>();
        for (int i = 0; i < x.rank(); i++) end.add(before.get(i) + x.dim(i));
        return List.of(slice(g, before, end));
    }
}
