package dev.kiln.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A computation: the values it returns ({@code outputs}) and the in-place updates it performs
 * ({@code effects}, e.g. optimizer steps). Everything else is reachable from these. Effects run
 * after every value has been computed, so they never clobber a variable that is still to be read.
 */
public record Graph(List<Node> outputs, List<Node> effects) {
    public Graph {
        outputs = List.copyOf(outputs);
        effects = List.copyOf(effects);
        for (Node e : effects) if (!(e.op() instanceof Effect)) throw new IllegalArgumentException(e.describe() + " is not an in-place update");
        for (Node o : outputs) if (o.op() instanceof Effect) throw new IllegalArgumentException(o.describe() + " has no value to return");
    }

    public static Graph of(Node... outputs) { return new Graph(List.of(outputs), List.of()); }

    /**
     * Every reachable node, each after its inputs; value nodes first (in a depth-first post-order
     * from the outputs, then from the effects' operands), effects last.
     */
    public List<Node> schedule() {
        List<Node> order = new ArrayList<>();
        Set<Node> done = new HashSet<>();
        for (Node o : outputs) visit(o, done, order);
        for (Node e : effects) for (Node in : e.inputs()) visit(in, done, order);
        for (Node e : effects) if (done.add(e)) order.add(e);
        return order;
    }

    private static void visit(Node root, Set<Node> done, List<Node> order) {
        if (done.contains(root)) return;
        // iterative post-order: graphs of deep nets are deep enough to overflow the stack
        ArrayDeque<Node> stack = new ArrayDeque<>();
        ArrayDeque<Integer> next = new ArrayDeque<>();
        stack.push(root);
        next.push(0);
        while (!stack.isEmpty()) {
            Node n = stack.peek();
            int i = next.pop();
            if (i < n.inputs().size()) {
                next.push(i + 1);
                Node in = n.input(i);
                if (!done.contains(in)) { stack.push(in); next.push(0); }
            } else {
                stack.pop();
                if (done.add(n)) order.add(n);
            }
        }
    }

    /** For each node, the nodes that read it (in schedule order). */
    public Map<Node, List<Node>> users() {
        Map<Node, List<Node>> users = new HashMap<>();
        for (Node n : schedule()) {
            for (Node in : n.inputs()) users.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        }
        return users;
    }

    public int size() { return schedule().size(); }
}
