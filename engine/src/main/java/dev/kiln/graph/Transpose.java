package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.graph.Ops.transpose;

/** Permutes axes: output axis i is input axis perm[i]. */
public record Transpose(List<Integer> perm) implements Movement {
    public Transpose { perm = List.copyOf(perm); }
    public String name() { return "transpose"; }
    public int arity() { return 1; }
    public Shape inferShape(List<Shape> in) {
        Shape x = in.get(0);
        if (perm.size() != x.rank()) throw new IllegalArgumentException("permutation " + perm + " does not fit rank " + x.rank());
        boolean[] seen = new boolean[x.rank()];
        int[] d = new int[x.rank()];
        for (int i = 0; i < perm.size(); i++) {
            int p = perm.get(i);
            if (p < 0 || p >= x.rank() || seen[p]) throw new IllegalArgumentException(perm + " is not a permutation of " + x.rank() + " axes");
            seen[p] = true;
            d[i] = x.dim(p);
        }
        return Shape.of(d);
    }
    public List<Integer> inverse() {
        Integer[] inv = new Integer[perm.size()];
        for (int i = 0; i < perm.size(); i++) inv[perm.get(i)] = i;
        return List.of(inv);
    }
    public List<Node> gradient(Node out, Node g) { return List.of(transpose(g, inverse())); }

    /** The permutation 0, 1, ..., rank - 1 (also: "every axis below rank"). */
    public static List<Integer> identity(int rank) {
        List<Integer> p = new ArrayList<>();
        for (int i = 0; i < rank; i++) p.add(i);
        return p;
    }
}
