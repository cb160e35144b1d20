package dev.kiln.compile;

import dev.kiln.graph.Binary;
import dev.kiln.graph.Broadcast;
import dev.kiln.graph.Full;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Reduce;
import dev.kiln.graph.ReduceFn;
import dev.kiln.graph.View;
import dev.kiln.graph.Transpose;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * Identities that remove work: x+0, 0+x, x-0, x·1, 1·x, x/1 → x; x·0 → 0 only when the zero is a
 * {@code Full} of the product's own shape (so no shape is lost); neg(neg(x)) → x; reshape of
 * reshape → one reshape; sum or mean of neg(x) → neg of the sum or mean; transpose of transpose → one transpose (none when the permutations
 * cancel); reshape, transpose or broadcast to the input's own shape → the input.
 *
 * <p>A rewrite never changes a node's shape: when x is smaller than x+0 (the zero broadcast it),
 * the result is x broadcast to the sum's shape. The x·0 rule ignores that 0·∞ and 0·NaN are NaN,
 * as every graph compiler does; it applies only to zeros the graph built on purpose (zerosLike).
 */
public final class AlgebraicSimplification implements Pass {
    public String name() { return "simplify"; }

    public Graph run(Graph g) {
        return Rebuild.map(g, (n, ins) -> {
            Node r = simplify(n, ins);
            return r != null ? r : Rebuild.withInputs(n, ins);
        });
    }

    /** The simpler node that replaces {@code n} (over rewritten {@code ins}), or null for none. */
    private static Node simplify(Node n, List<Node> ins) {
        Shape out = n.shape();
        return switch (n.op()) {
            case Binary b -> {
                Node x = ins.get(0), y = ins.get(1);
                yield switch (b.fn()) {
                    case ADD -> isFull(y, 0) ? keep(x, out) : isFull(x, 0) ? keep(y, out) : null;
                    case SUB -> isFull(y, 0) ? keep(x, out) : null;
                    case MUL -> isFull(y, 1) ? keep(x, out) : isFull(x, 1) ? keep(y, out)
                            : isFull(y, 0) && y.shape().equals(out) ? y
                            : isFull(x, 0) && x.shape().equals(out) ? x : null;
                    case DIV -> isFull(y, 1) ? keep(x, out) : null;
                    default -> null;
                };
            }
            case Unary u when u.fn() == UnaryFn.NEG
                    && ins.get(0).op() instanceof Unary inner && inner.fn() == UnaryFn.NEG -> ins.get(0).input(0);
            case View r -> {
                Node x = ins.get(0);
                while (x.op() instanceof View) x = x.input(0);
                yield x.shape().equals(r.to()) ? x : x != ins.get(0) ? Rebuild.node(n, r, List.of(x)) : null;
            }
            case Transpose t -> {
                Node x = ins.get(0);
                List<Integer> perm = t.perm();
                if (x.op() instanceof Transpose inner) {
                    // output axis i is inner's axis perm[i], which is x's axis inner.perm[perm[i]]
                    List<Integer> composed = new ArrayList<>(perm.size());
                    for (int p : perm) composed.add(inner.perm().get(p));
                    perm = composed;
                    x = x.input(0);
                }
                if (isIdentity(perm)) yield x;
                yield x != ins.get(0) ? Rebuild.node(n, new Transpose(perm), List.of(x)) : null;
            }
            // sum(-x) = -sum(x) exactly (negation is exact and commutes with every rounding): the negation then
            // touches the small result, not the large operand (autodiff's gradient of a - mean(a) makes these)
            case Reduce r when (r.fn() == ReduceFn.SUM || r.fn() == ReduceFn.MEAN)
                    && ins.get(0).op() instanceof Unary inner && inner.fn() == UnaryFn.NEG ->
                    Ops.neg(Rebuild.node(n, r, List.of(ins.get(0).input(0))));
            case Broadcast bc -> {
                Node x = ins.get(0);
                while (x.op() instanceof Broadcast) x = x.input(0);
                yield x.shape().equals(bc.to()) ? x : x != ins.get(0) ? Rebuild.node(n, bc, List.of(x)) : null;
            }
            default -> null;
        };
    }

    private static boolean isFull(Node n, double value) { return n.op() instanceof Full f && f.value() == value; }

    /** x standing for a node of shape {@code out}: x itself, or x broadcast when it is smaller. */
    private static Node keep(Node x, Shape out) { return x.shape().equals(out) ? x : Ops.broadcastTo(x, out); }

    private static boolean isIdentity(List<Integer> perm) {
        for (int i = 0; i < perm.size(); i++) if (perm.get(i) != i) return false;
        return true;
    }
}
