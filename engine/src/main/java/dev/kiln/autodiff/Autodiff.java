package dev.kiln.autodiff;

import dev.kiln.graph.Effect;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Lowered;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Primitive;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode differentiation as a graph transformation: walks the forward graph in reverse
 * order, applies each {@link Primitive}'s gradient rule (only primitives have one), sums fan-out and reduces broadcast gradients to each
 * input's shape. The result is more graph (no tape), compiled once with the forward pass.
 */
public final class Autodiff {
    private Autodiff() {}

    /**
     * d loss / d wrt for each node in {@code wrt}; {@code loss} must be a scalar. A node that
     * {@code loss} does not depend on gets a zero gradient.
     */
    public static List<Node> gradients(Node loss, List<Node> wrt) {
        if (loss.shape().size() != 1) throw new IllegalArgumentException("gradients need a scalar loss, got " + loss.describe());
        return gradients(loss, Ops.full(loss.shape(), 1.0), wrt);
    }

    /** Vector-Jacobian product: the gradients of {@code out} weighted by {@code seed} (shape of out). */
    public static List<Node> gradients(Node out, Node seed, List<Node> wrt) {
        if (!seed.shape().equals(out.shape())) throw new IllegalArgumentException("seed " + seed.shape() + " does not match output " + out.shape());
        List<Node> order = Graph.of(out).schedule();
        Set<Node> needed = nodesOnPathTo(order, wrt);
        Map<Node, Node> grads = new HashMap<>();
        grads.put(out, seed);
        for (int i = order.size() - 1; i >= 0; i--) {
            Node n = order.get(i);
            Node g = grads.get(n);
            if (g == null || n.inputs().isEmpty() || !needed.contains(n)) continue;
            List<Node> inGrads = primitive(n).gradient(n, g);
            for (int k = 0; k < n.inputs().size(); k++) {
                Node in = n.input(k);
                Node gi = inGrads.get(k);
                if (gi == null || !needed.contains(in)) continue;
                gi = unbroadcast(gi, in.shape(), n);
                Node prev = grads.get(in);
                grads.put(in, prev == null ? gi : Ops.add(prev, gi));
            }
        }
        List<Node> result = new ArrayList<>(wrt.size());
        for (Node w : wrt) {
            Node g = grads.get(w);
            result.add(g != null ? g : Ops.zerosLike(w));
        }
        return result;
    }

    /**
     * The node's op as a primitive: only primitives have a gradient rule. The compiler's ops and in-place updates
     * are rejected with what to do instead, so autodiff never runs over a compiled graph.
     */
    private static Primitive primitive(Node n) {
        return switch (n.op()) {
            case Primitive p -> p;
            case Lowered l -> throw new IllegalArgumentException("cannot differentiate through " + n.describe() + ": " + l.name()
                    + " is made by the compiler after autodiff; differentiate the graph of primitives, then compile it");
            case Effect e -> throw new IllegalArgumentException("cannot differentiate through " + n.describe() + ": " + e.name()
                    + " is an in-place update with no value; take gradients of a value, and add updates as the graph's effects");
        };
    }

    /** Nodes that lie on some path from a {@code wrt} node to the output (gradients flow only there). */
    private static Set<Node> nodesOnPathTo(List<Node> order, List<Node> wrt) {
        Set<Node> reach = new HashSet<>(wrt);
        for (Node n : order) {
            for (Node in : n.inputs()) {
                if (reach.contains(in)) { reach.add(n); break; }
            }
        }
        return reach;
    }

    /** Sums a gradient of a broadcast shape back down to {@code target}. */
    static Node unbroadcast(Node g, Shape target, Node at) {
        Shape s = g.shape();
        if (s.equals(target)) return g;
        if (s.rank() < target.rank()) throw new IllegalStateException("gradient " + s + " is smaller than its input " + target + " at " + at.describe());
        int lead = s.rank() - target.rank();
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < s.rank(); i++) {
            if (i < lead || (target.dim(i - lead) == 1 && s.dim(i) != 1)) axes.add(i);
            else if (target.dim(i - lead) != s.dim(i)) throw new IllegalStateException("gradient " + s + " does not reduce to " + target + " at " + at.describe());
        }
        Node r = axes.isEmpty() ? g : Ops.sum(g, axes, false);
        return Ops.reshape(r, target);
    }
}
