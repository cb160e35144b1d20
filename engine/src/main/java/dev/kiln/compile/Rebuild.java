package dev.kiln.compile;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Op;
import dev.kiln.graph.Ops;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The mechanism every pass shares: walk the schedule once, hand each node its already-rewritten
 * inputs to a {@link Rule}, and rebuild outputs and effects from the results. New nodes keep the
 * scope label and call site of the node they replace, so dumps and errors still name the layer and line.
 */
final class Rebuild {
    private Rebuild() {}

    /** Decides what replaces {@code original}, given its inputs as already rewritten. */
    interface Rule {
        Node apply(Node original, List<Node> inputs);
    }

    static Graph map(Graph g, Rule rule) {
        Map<Node, Node> memo = new HashMap<>();
        boolean changed = false;
        for (Node n : g.schedule()) {
            List<Node> ins = new ArrayList<>(n.inputs().size());
            for (Node in : n.inputs()) ins.add(memo.get(in));
            Node r = rule.apply(n, ins);
            changed |= r != n;
            memo.put(n, r);
        }
        if (!changed) return g;
        List<Node> outs = new ArrayList<>(g.outputs().size());
        for (Node o : g.outputs()) outs.add(memo.get(o));
        List<Node> effs = new ArrayList<>(g.effects().size());
        for (Node e : g.effects()) effs.add(memo.get(e));
        return new Graph(outs, effs);
    }

    /** {@code n} itself when its inputs are unchanged, else the same op over the new inputs. */
    static Node withInputs(Node n, List<Node> inputs) {
        boolean same = true;
        for (int i = 0; i < inputs.size() && same; i++) same = inputs.get(i) == n.input(i);
        return same ? n : node(n, n.op(), inputs);
    }

    /** A new node for {@code op} over {@code inputs}, labelled like {@code like}. */
    static Node node(Node like, Op op, List<Node> inputs) {
        return Ops.derived(like, op, inputs);
    }
}
