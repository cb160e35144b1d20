package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.graph.Ops.pad;

/** Elements [start, end) along every axis (step 1). */
public record Slice(List<Integer> start, List<Integer> end) implements Movement {
    public Slice { start = List.copyOf(start); end = List.copyOf(end); }
    public String name() { return "slice"; }
    public int arity() { return 1; }
    public Shape inferShape(List<Shape> in) {
        Shape x = in.get(0);
        if (start.size() != x.rank() || end.size() != x.rank()) throw new IllegalArgumentException("slice " + start + ".." + end + " does not fit rank " + x.rank());
        int[] d = new int[x.rank()];
        for (int i = 0; i < d.length; i++) {
            int s = start.get(i), e = end.get(i);
            if (s < 0 || e > x.dim(i) || s >= e) throw new IllegalArgumentException("slice [" + s + ", " + e + ") is empty or outside axis " + i + " of " + x);
            d[i] = e - s;
        }
        return Shape.of(d);
    }
    public List<Node> gradient(Node out, Node g) {
        Shape x = out.input(0).shape();
        List<Integer> after = new ArrayList<>();
        for (int i = 0; i < x.rank(); i++) after.add(x.dim(i) - end.get(i));
        return List.of(pad(g, start, after, 0));
    }
}
