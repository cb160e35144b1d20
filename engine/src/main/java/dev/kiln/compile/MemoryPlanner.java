package dev.kiln.compile;

import dev.kiln.graph.Constant;
import dev.kiln.graph.Effect;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Full;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Placeholder;
import dev.kiln.graph.Node;
import dev.kiln.graph.Param;
import dev.kiln.graph.View;
import dev.kiln.graph.Variable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Gives every value of a schedule a {@link Slot}. Inputs, variables and constants live outside the
 * arena ({@code Full} fills become constants); a reshape is a view of its operand's slot (same
 * storage and offset, new shape, no instruction); every other value gets a range of the one arena.
 *
 * <p>Liveness runs over the schedule: a buffer lives from the instruction that writes it to the
 * last instruction that reads it or any view of it (program outputs live to the end). Ranges are
 * handed out in schedule order by best fit over the freed ranges (the smallest free range that
 * fits, else the top of the arena, growing a free range that ends there), and are
 * {@value #ALIGN}-float (64-byte) aligned. An elementwise or fused instruction writes in place over
 * an operand of its own size whose buffer dies at that instruction: kernels read element i of every
 * operand before writing element i of the result, so that is safe.
 *
 * <pre>{@code MemoryPlanner.Plan plan = MemoryPlanner.plan(graph.schedule(), graph.outputs(), List.of()); }</pre>
 */
public final class MemoryPlanner {
    /** Alignment of arena offsets, in floats: 64 bytes, one cache line, one AVX-512 vector. */
    public static final int ALIGN = 16;

    private MemoryPlanner() {}

    /**
     * Where each value lives. {@code slots} has an entry for every value node (none for effects);
     * {@code inPlace} holds the nodes that write over an operand's buffer.
     */
    public record Plan(Map<Node, Slot> slots, List<Node> inputs, List<Variable> variables,
                       List<Constant> constants, int arenaSize, List<Node> inPlace) {
        public Plan {
            slots = Collections.unmodifiableMap(new IdentityHashMap<>(slots));
            inputs = List.copyOf(inputs);
            variables = List.copyOf(variables);
            constants = List.copyOf(constants);
            inPlace = List.copyOf(inPlace);
        }

        public Slot slot(Node n) {
            Slot s = slots.get(n);
            if (s == null) throw new IllegalArgumentException(n.describe() + " has no slot: it is not a value of the planned schedule");
            return s;
        }
    }

    /**
     * Plans {@code schedule} (each node after its inputs) whose values {@code outputs} are read after
     * the run. {@code inputOrder} fixes the program's input slots (matched by name and shape); when
     * empty, inputs are numbered in order of first appearance.
     */
    public static Plan plan(List<Node> schedule, List<Node> outputs, List<Node> inputOrder) {
        Map<Node, Slot> slots = new IdentityHashMap<>();
        List<Node> inputs = new ArrayList<>(inputOrder);
        List<Variable> variables = new ArrayList<>();
        List<Constant> constants = new ArrayList<>();
        Map<Variable, Integer> variableIndex = new IdentityHashMap<>();
        Map<Full, Integer> fullIndex = new HashMap<>();
        Map<Constant, Integer> constantIndex = new IdentityHashMap<>();

        // buffer owners: the arena value a node's storage belongs to (itself, or a reshape's source)
        Map<Node, Node> owner = new IdentityHashMap<>();
        Map<Node, Integer> position = new IdentityHashMap<>();
        for (int i = 0; i < schedule.size(); i++) {
            Node n = schedule.get(i);
            position.put(n, i);
            if (n.op() instanceof Effect) continue;
            switch (n.op()) {
                case Placeholder in -> slots.put(n, new Slot(Slot.Storage.INPUT, inputIndex(n, in, inputs, inputOrder.isEmpty()), 0, n.shape()));
                case Param p -> slots.put(n, new Slot(Slot.Storage.VARIABLE,
                        variableIndex.computeIfAbsent(p.variable(), v -> { variables.add(v); return variables.size() - 1; }), 0, n.shape()));
                case Full f -> slots.put(n, new Slot(Slot.Storage.CONSTANT,
                        fullIndex.computeIfAbsent(f, k -> { constants.add(filled(k)); return constants.size() - 1; }), 0, n.shape()));
                case Constant c -> slots.put(n, new Slot(Slot.Storage.CONSTANT,
                        constantIndex.computeIfAbsent(c, k -> { constants.add(k); return constants.size() - 1; }), 0, n.shape()));
                case View r -> {
                    // a view: of a leaf's slot now, of an arena value's once that has an offset
                    Node o = owner.get(n.input(0));
                    if (o != null) owner.put(n, o);
                    else slots.put(n, slots.get(n.input(0)).withShape(n.shape()));
                }
                default -> owner.put(n, n);
            }
        }

        // liveness: last reader of each arena buffer, through views; outputs outlive the schedule
        int end = schedule.size();
        Map<Node, Integer> last = new IdentityHashMap<>();
        for (int i = 0; i < schedule.size(); i++) {
            Node n = schedule.get(i);
            if (owner.get(n) == n) last.merge(n, i, Math::max);
            for (Node in : n.inputs()) {
                Node o = owner.get(in);
                if (o != null) last.merge(o, i, Math::max);
            }
        }
        for (Node out : outputs) {
            Node o = owner.get(out);
            if (o != null) last.put(o, end);
        }

        // allocation in schedule order; a buffer's range is freed once its last reader has run
        Arena arena = new Arena();
        Map<Node, Integer> offset = new IdentityHashMap<>();
        PriorityQueue<Node> live = new PriorityQueue<>((a, b) -> Integer.compare(last.get(a), last.get(b)));
        Map<Node, Boolean> handedOver = new IdentityHashMap<>();
        List<Node> inPlace = new ArrayList<>();
        for (int i = 0; i < schedule.size(); i++) {
            Node n = schedule.get(i);
            while (!live.isEmpty() && last.get(live.peek()) < i) {
                Node dead = live.poll();
                if (handedOver.remove(dead) == null) arena.free(offset.get(dead), aligned(dead.shape().size()));
            }
            if (owner.get(n) != n) continue;
            Node reuse = inPlaceOperand(n, i, owner, last);
            int at;
            if (reuse != null) {
                // the operand's range passes to n, which frees it when n dies
                handedOver.put(reuse, Boolean.TRUE);
                at = offset.get(reuse);
                inPlace.add(n);
            } else {
                at = arena.allocate(aligned(n.shape().size()));
            }
            offset.put(n, at);
            live.add(n);
        }
        for (Map.Entry<Node, Integer> e : offset.entrySet()) {
            slots.put(e.getKey(), new Slot(Slot.Storage.ARENA, 0, e.getValue(), e.getKey().shape()));
        }
        // views of arena values were recorded before their owner had an offset
        for (Node n : schedule) {
            if (n.op() instanceof View) slots.put(n, slots.get(n.input(0)).withShape(n.shape()));
        }
        return new Plan(slots, inputs, variables, constants, arena.top, inPlace);
    }

    /** The operand whose buffer n may overwrite: same size, in the arena, last read here. */
    private static Node inPlaceOperand(Node n, int i, Map<Node, Node> owner, Map<Node, Integer> last) {
        if (!(n.op() instanceof Elementwise || n.op() instanceof Fused)) return null;
        for (Node in : n.inputs()) {
            Node o = owner.get(in);
            if (o != null && last.get(o) == i && o.shape().size() == n.shape().size()) return o;
        }
        return null;
    }

    private static int inputIndex(Node n, Placeholder in, List<Node> inputs, boolean appendNew) {
        for (int k = 0; k < inputs.size(); k++) if (inputs.get(k).op().equals(in)) return k;
        if (!appendNew) {
            throw new IllegalArgumentException("the graph reads input '" + in.inputName() + "' " + in.shape()
                    + " which is not in the given input order " + names(inputs) + " (" + n.describe() + ")");
        }
        inputs.add(n);
        return inputs.size() - 1;
    }

    private static List<String> names(List<Node> inputs) {
        List<String> names = new ArrayList<>();
        for (Node n : inputs) names.add(n.op() instanceof Placeholder in ? in.inputName() : n.describe());
        return names;
    }

    private static Constant filled(Full f) {
        float[] data = new float[f.shape().size()];
        Arrays.fill(data, (float) f.value());
        return new Constant(f.shape(), data);
    }

    static int aligned(int size) { return (size + ALIGN - 1) / ALIGN * ALIGN; }

    /** Free ranges of the arena, merged when adjacent; {@code top} is the arena's size so far. */
    static final class Arena {
        private final TreeMap<Integer, Integer> free = new TreeMap<>(); // offset -> size
        int top;

        int allocate(int size) {
            Map.Entry<Integer, Integer> best = null;
            for (Map.Entry<Integer, Integer> e : free.entrySet()) {
                if (e.getValue() >= size && (best == null || e.getValue() < best.getValue())) best = e;
            }
            // read key and value before removing: TreeMap's deletion may move another mapping into
            // the removed entry object, so the entry must not be read afterwards
            if (best != null) {
                int at = best.getKey(), length = best.getValue();
                free.remove(at);
                if (length > size) free.put(at + size, length - size);
                return at;
            }
            Map.Entry<Integer, Integer> lastFree = free.lastEntry();
            if (lastFree != null && lastFree.getKey() + lastFree.getValue() == top) {
                int at = lastFree.getKey();
                free.remove(at);
                top = at + size;
                return at;
            }
            int at = top;
            top += size;
            return at;
        }

        void free(int offset, int size) {
            Map.Entry<Integer, Integer> after = free.ceilingEntry(offset);
            if (after != null && after.getKey() == offset + size) {
                int key = after.getKey();
                size += after.getValue();
                free.remove(key);
            }
            Map.Entry<Integer, Integer> before = free.floorEntry(offset);
            if (before != null && before.getKey() + before.getValue() == offset) {
                int key = before.getKey();
                size += before.getValue();
                free.remove(key);
                offset = key;
            }
            free.put(offset, size);
        }
    }
}
