package dev.kiln.compile;

import dev.kiln.graph.Constant;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.View;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class MemoryPlannerTest {
    private static final int GRAPHS = 200;

    private static Program compileAsIs(Graph g) {
        return Compiler.compile(g, Compiler.Options.defaults().withPasses(List.of()));
    }

    /** The arena value whose storage n uses: n itself, or the source of a chain of reshapes. */
    private static Node storageOf(Node n) {
        while (n.op() instanceof View) n = n.input(0);
        return n;
    }

    /**
     * Checks a program's arena against liveness computed here from its instructions (not from the
     * planner): two buffers whose ranges overlap must never be live at once, except where an
     * elementwise or fused instruction writes over a same-size operand whose last read it is.
     * Returns the number of in-place instructions seen.
     */
    private static int checkArena(Program p, List<Node> outputs) {
        Map<Node, Integer> def = new HashMap<>();
        Map<Node, Slot> slot = new HashMap<>();
        List<Node> buffers = new ArrayList<>();
        for (int k = 0; k < p.instructions().size(); k++) {
            Instruction ins = p.instructions().get(k);
            if (ins.output() != null && ins.output().storage() == Slot.Storage.ARENA) {
                def.put(ins.node(), k);
                slot.put(ins.node(), ins.output());
                buffers.add(ins.node());
            }
        }
        Map<Node, Integer> last = new HashMap<>(def);
        for (int k = 0; k < p.instructions().size(); k++) {
            for (Node in : p.instructions().get(k).node().inputs()) {
                Node s = storageOf(in);
                if (def.containsKey(s)) last.merge(s, k, Math::max);
            }
        }
        for (Node o : outputs) if (def.containsKey(storageOf(o))) last.put(storageOf(o), Integer.MAX_VALUE);

        long sumAligned = 0;
        for (Node b : buffers) {
            Slot s = slot.get(b);
            assertEquals(0, s.offset() % 16, "offset of " + b + " is 64-byte aligned");
            assertTrue(s.offset() >= 0 && s.offset() + s.size() <= p.arenaSize(), b + " lies inside the arena");
            sumAligned += (s.size() + 15) / 16 * 16;
        }
        assertTrue(p.arenaSize() <= sumAligned, "arena " + p.arenaSize() + " <= sum of aligned buffers " + sumAligned);

        int inPlace = 0;
        for (int i = 0; i < buffers.size(); i++) {
            for (int j = i + 1; j < buffers.size(); j++) {
                Node a = buffers.get(i), b = buffers.get(j); // a is written first
                Slot sa = slot.get(a), sb = slot.get(b);
                boolean overlap = sa.offset() < sb.offset() + sb.size() && sb.offset() < sa.offset() + sa.size();
                if (!overlap || last.get(a) < def.get(b)) continue;
                // the only allowed sharing: b written in place over a, which dies at b
                assertEquals(def.get(b), last.get(a), a + " is still live when " + b + " overwrites it");
                assertTrue(b.op() instanceof Elementwise || b.op() instanceof Fused, b + " writes in place but is not elementwise");
                assertEquals(sa.offset(), sb.offset(), "in-place means the same range");
                assertEquals(sa.size(), sb.size(), "in-place means the same size");
                boolean reads = false;
                for (Node in : b.inputs()) reads |= storageOf(in) == a;
                assertTrue(reads, b + " overwrites " + a + " without reading it");
                inPlace++;
            }
        }
        return inPlace;
    }

    @Test
    void randomGraphsNeverShareMemoryBetweenLiveBuffers() {
        int inPlace = 0, reused = 0;
        for (long seed = 0; seed < GRAPHS; seed++) {
            Graph g = GraphFixtures.randomGraph(seed);
            Graph h = Compiler.optimize(g, Compiler.Options.defaults());
            for (Graph x : List.of(g, h)) {
                Program p = compileAsIs(x);
                inPlace += checkArena(p, x.outputs());
                long sum = 0;
                for (Instruction ins : p.instructions()) if (ins.output() != null && ins.output().storage() == Slot.Storage.ARENA) sum += MemoryPlanner.aligned(ins.output().size());
                if (p.arenaSize() < sum) reused++;
            }
        }
        // the property must have been exercised, not passed vacuously
        assertTrue(inPlace > 50, "in-place writes seen: " + inPlace);
        assertTrue(reused > 50, "programs that reuse freed ranges: " + reused);
    }

    @Test
    void optimizedRandomGraphsComputeTheSameValuesWithNoMoreInstructions() {
        int fewer = 0;
        for (long seed = 0; seed < GRAPHS; seed++) {
            Graph g = GraphFixtures.randomGraph(seed);
            Graph h = Compiler.optimize(g, Compiler.Options.defaults());
            // the passes reorder no arithmetic inside an element, so only folding's f32 rounding could differ (none here)
            GraphFixtures.assertSameValues(g, h, GraphFixtures.randomFeeds(g, seed), 1e-12);
            int before = GraphFixtures.instructions(g), after = GraphFixtures.instructions(h);
            assertTrue(after <= before, "seed " + seed + ": " + after + " > " + before);
            if (after < before) fewer++;
        }
        assertTrue(fewer > GRAPHS / 2, "graphs that got smaller: " + fewer);
    }

    @Test
    void reshapeIsAViewWithoutAnInstruction() {
        Node x = input("x", Shape.of(2, 6));
        Node e = exp(x);
        Node r = reshape(e, Shape.of(3, 4));
        Node y = matmul(r, reshape(x, Shape.of(4, 3)));
        Program p = compileAsIs(Graph.of(y));
        assertEquals(2, p.instructions().size(), "exp and matmul");
        Instruction mm = p.instructions().get(1);
        assertEquals(p.instructions().get(0).output().withShape(Shape.of(3, 4)), mm.inputs().get(0));
        assertEquals(new Slot(Slot.Storage.INPUT, 0, 0, Shape.of(4, 3)), mm.inputs().get(1));
        assertNotEquals(p.instructions().get(0).output().offset(), mm.output().offset(), "the matmul may not overwrite the exp it reads");
    }

    @Test
    void leavesLiveOutsideTheArena() {
        Variable v = GraphFixtures.variable("w", Shape.of(3), new Random(1));
        Node x = input("x", Shape.of(3));
        Node c = constant(Shape.of(3), new float[] {1, 2, 3});
        Node y = add(add(mul(x, full(Shape.of(3), 2)), param(v)), add(c, full(Shape.of(3), 2)));
        MemoryPlanner.Plan plan = MemoryPlanner.plan(Graph.of(y).schedule(), List.of(y), List.of());
        assertEquals(List.of(v), plan.variables());
        assertEquals(2, plan.constants().size(), "equal fills share one constant");
        Constant filled = plan.constants().stream().filter(k -> k != c.op()).findFirst().orElseThrow();
        assertArrayEquals(new float[] {2, 2, 2}, filled.data(), 0f);
        assertEquals(Slot.Storage.INPUT, plan.slot(x).storage());
        assertEquals(Slot.Storage.ARENA, plan.slot(y).storage());
    }

    @Test
    void explicitInputOrderIsKeptAndAMissingInputIsNamed() {
        Node a = input("a", Shape.of(2)), b = input("b", Shape.of(2)), unused = input("c", Shape.of(1));
        Graph g = Graph.of(sub(a, b));
        Program p = Compiler.compile(g, Compiler.Options.defaults().withInputs(List.of(unused, b, a)));
        assertEquals(List.of("c", "b", "a"), p.inputNames());
        assertEquals(List.of(new Slot(Slot.Storage.INPUT, 2, 0, Shape.of(2)), new Slot(Slot.Storage.INPUT, 1, 0, Shape.of(2))),
                p.instructions().get(0).inputs());
        var e = assertThrows(IllegalArgumentException.class, () -> Compiler.compile(g, Compiler.Options.defaults().withInputs(List.of(a))));
        assertTrue(e.getMessage().contains("'b'"), e.getMessage());
    }

    @Test
    void inPlaceUpdatesHaveNoOutputSlotAndRunLast() {
        Variable w = GraphFixtures.variable("w", Shape.of(3), new Random(2));
        Node x = input("x", Shape.of(3));
        Node loss = sumAll(mul(param(w), x));
        Node step = sgdUpdate(param(w), exp(x), param(w), scalar(0.1), new SgdUpdate(0, false, 0));
        Program p = compileAsIs(new Graph(List.of(loss), List.of(step)));
        Instruction lastIns = p.instructions().get(p.instructions().size() - 1);
        assertSame(step, lastIns.node());
        assertNull(lastIns.output());
        assertEquals(Slot.Storage.VARIABLE, lastIns.inputs().get(0).storage());
        checkArena(p, List.of(loss));
    }
}
