package dev.kiln.compile;

import dev.kiln.graph.Effect;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Op;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges structurally equal nodes: the same op (records' {@code equals}, so attributes compare by
 * value; {@code Constant} by identity, {@code Placeholder} by name and shape, {@code Param} by variable)
 * over the same input nodes is computed once. Walking in schedule order makes this bottom-up, so
 * equal subtrees collapse completely in one pass. In-place updates are never merged: two updates
 * are two writes.
 */
public final class CommonSubexpressionElimination implements Pass {
    private record Key(Op op, List<Node> inputs) {}

    public String name() { return "cse"; }

    public Graph run(Graph g) {
        Map<Key, Node> seen = new HashMap<>();
        return Rebuild.map(g, (n, ins) -> {
            if (n.op() instanceof Effect) return Rebuild.withInputs(n, ins);
            Key k = new Key(n.op(), ins);
            Node prev = seen.get(k);
            if (prev != null) return prev;
            Node m = Rebuild.withInputs(n, ins);
            seen.put(k, m);
            return m;
        });
    }
}
