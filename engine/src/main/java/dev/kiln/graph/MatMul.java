package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

import static dev.kiln.graph.Ops.matmul;

/**
 * C = op(A) · op(B) over the last two axes, op = transpose when the flag is set. Leading (batch)
 * axes broadcast. A: [..., M, K] (or [..., K, M] transposed), B: [..., K, N] (or [..., N, K]).
 */
public record MatMul(boolean transposeA, boolean transposeB) implements Primitive {
    public String name() { return "matmul" + (transposeA ? "_ta" : "") + (transposeB ? "_tb" : ""); }
    public int arity() { return 2; }

    public Shape inferShape(List<Shape> in) {
        Shape a = in.get(0), b = in.get(1);
        if (a.rank() < 2 || b.rank() < 2) throw new IllegalArgumentException("matmul needs rank >= 2 operands, got " + a + " and " + b);
        int m = transposeA ? a.dim(-1) : a.dim(-2), ka = transposeA ? a.dim(-2) : a.dim(-1);
        int kb = transposeB ? b.dim(-1) : b.dim(-2), n = transposeB ? b.dim(-2) : b.dim(-1);
        if (ka != kb) throw new IllegalArgumentException("inner dimensions differ: " + a + (transposeA ? "ᵀ" : "") + " · " + b + (transposeB ? "ᵀ" : "") + " (" + ka + " vs " + kb + ")");
        Shape batch = Shape.broadcast(batchOf(a), batchOf(b));
        int[] d = new int[batch.rank() + 2];
        for (int i = 0; i < batch.rank(); i++) d[i] = batch.dim(i);
        d[d.length - 2] = m;
        d[d.length - 1] = n;
        return Shape.of(d);
    }

    public static Shape batchOf(Shape s) {
        int[] d = new int[s.rank() - 2];
        for (int i = 0; i < d.length; i++) d[i] = s.dim(i);
        return Shape.of(d);
    }

    public List<Node> gradient(Node out, Node g) {
        Node a = out.input(0), b = out.input(1);
        Node da = transposeA ? matmul(b, g, transposeB, true) : matmul(g, b, false, !transposeB);
        Node db = transposeB ? matmul(g, a, true, transposeA) : matmul(a, g, !transposeA, false);
        return List.of(da, db);
    }
}
