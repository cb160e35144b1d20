package dev.kiln.compile;

import dev.kiln.graph.Broadcast;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Turns trees (and shared-within DAGs) of elementwise ops into one {@link Fused} loop, so the
 * intermediates never touch memory. A group grows from a root (a value someone outside reads)
 * towards its operands and takes in an elementwise operand when
 * <ul>
 *   <li>its shape is the root's shape (smaller operands are broadcast inputs of the loop, not steps),
 *   <li>every node that reads it is already in the group, and it is not a graph output: a value
 *       read from outside must be materialised, so it is a group's root or an input, never a step.
 * </ul>
 * A broadcast operand enters the loop as the broadcast's input (see {@link #operand}).
 * Candidates are taken latest-in-schedule first, so all of a candidate's readers inside the group
 * have been decided before it is. Groups of one op stay as they are.
 */
public final class ElementwiseFusion implements Pass {
    public String name() { return "fuse_elementwise"; }

    public Graph run(Graph g) {
        List<Node> order = g.schedule();
        Map<Node, Integer> position = new IdentityHashMap<>();
        for (int i = 0; i < order.size(); i++) position.put(order.get(i), i);
        Map<Node, List<Node>> users = g.users();
        Set<Node> outputs = new HashSet<>(g.outputs());

        Set<Node> grouped = new HashSet<>();
        Map<Node, List<Node>> groups = new HashMap<>();
        for (int i = order.size() - 1; i >= 0; i--) {
            Node root = order.get(i);
            if (!(root.op() instanceof Elementwise) || grouped.contains(root)) continue;
            List<Node> members = grow(root, position, users, outputs, grouped);
            if (members.size() > 1) groups.put(root, members);
        }
        if (groups.isEmpty()) return g;

        // rebuild in schedule order so that a loop's operands are already rewritten (an operand
        // may itself be the root of another loop); steps other than roots are not rebuilt at all
        Set<Node> steps = new HashSet<>();
        for (List<Node> members : groups.values()) steps.addAll(members.subList(0, members.size() - 1));
        Map<Node, Node> memo = new HashMap<>();
        for (Node n : order) {
            List<Node> members = groups.get(n);
            if (members != null) { memo.put(n, fuse(n, members, memo)); continue; }
            if (steps.contains(n)) continue;
            List<Node> ins = new ArrayList<>(n.inputs().size());
            for (Node in : n.inputs()) ins.add(memo.get(in));
            memo.put(n, Rebuild.withInputs(n, ins));
        }
        List<Node> outs = new ArrayList<>();
        for (Node o : g.outputs()) outs.add(memo.get(o));
        List<Node> effs = new ArrayList<>();
        for (Node e : g.effects()) effs.add(memo.get(e));
        return new Graph(outs, effs);
    }

    /** The group rooted at {@code root}, in schedule order. */
    private static List<Node> grow(Node root, Map<Node, Integer> position, Map<Node, List<Node>> users,
                                   Set<Node> outputs, Set<Node> grouped) {
        Shape shape = root.shape();
        Set<Node> group = new HashSet<>();
        group.add(root);
        grouped.add(root);
        PriorityQueue<Node> candidates = new PriorityQueue<>((a, b) -> Integer.compare(position.get(b), position.get(a)));
        Set<Node> queued = new HashSet<>();
        for (Node in : root.inputs()) if (queued.add(in)) candidates.add(in);
        while (!candidates.isEmpty()) {
            Node c = candidates.poll();
            if (!(c.op() instanceof Elementwise) || !c.shape().equals(shape) || outputs.contains(c) || grouped.contains(c)) continue;
            if (!group.containsAll(users.get(c))) continue;
            group.add(c);
            grouped.add(c);
            for (Node in : c.inputs()) if (queued.add(in)) candidates.add(in);
        }
        List<Node> members = new ArrayList<>(group);
        members.sort((a, b) -> Integer.compare(position.get(a), position.get(b)));
        return members;
    }

    /**
     * The value a loop reads for outside operand {@code in}: a broadcast's own input, since the loop
     * broadcasts its operands anyway (NumPy broadcasts compose), so the expanded copy is never
     * written and read back (autodiff's reduce-then-broadcast makes one per batch-norm gradient).
     */
    private static Node operand(Node in) {
        while (in.op() instanceof Broadcast) in = in.input(0);
        return in;
    }

    /** One Fused node computing {@code members} (schedule order, root last) over their outside operands. */
    private static Node fuse(Node root, List<Node> members, Map<Node, Node> memo) {
        Map<Node, Integer> index = new HashMap<>();
        List<Node> external = new ArrayList<>();
        Set<Node> inside = new HashSet<>(members);
        for (Node m : members) {
            for (Node in : m.inputs()) {
                Node e = operand(in);
                if (!inside.contains(in) && !index.containsKey(e)) {
                    index.put(e, external.size());
                    external.add(e);
                }
            }
        }
        List<Fused.Step> steps = new ArrayList<>(members.size());
        for (Node m : members) {
            List<Integer> args = new ArrayList<>(m.inputs().size());
            for (Node in : m.inputs()) args.add(index.get(inside.contains(in) ? in : operand(in)));
            index.put(m, external.size() + steps.size());
            steps.add(new Fused.Step((Elementwise) m.op(), args));
        }
        List<Node> operands = new ArrayList<>(external.size());
        for (Node e : external) operands.add(memo.get(e));
        return Rebuild.node(root, new Fused(steps, root.shape()), operands);
    }
}
