package dev.kiln.compile;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The arena's free-list allocator against a cell-by-cell model: random allocate/free sequences
 * must never hand out a cell that is in use, and every range must end within the arena's top.
 * (A TreeMap entry read after its removal once handed out overlapping ranges; random graphs in
 * MemoryPlannerTest were too small to build the free-list shape that exposed it.)
 */
class ArenaAllocatorTest {
    @Test
    void allocationsNeverOverlapAndStayBelowTheTop() {
        Random r = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            MemoryPlanner.Arena arena = new MemoryPlanner.Arena();
            boolean[] used = new boolean[1 << 16];
            List<int[]> live = new ArrayList<>();
            for (int op = 0; op < 200; op++) {
                if (!live.isEmpty() && r.nextInt(3) == 0) {
                    int[] b = live.remove(r.nextInt(live.size()));
                    for (int i = b[0]; i < b[0] + b[1]; i++) used[i] = false;
                    arena.free(b[0], b[1]);
                } else {
                    int size = (1 + r.nextInt(20)) * MemoryPlanner.ALIGN;
                    int at = arena.allocate(size);
                    assertTrue(at >= 0 && at + size <= arena.top, "range " + at + "+" + size + " ends past the top " + arena.top);
                    for (int i = at; i < at + size; i++) {
                        assertTrue(!used[i], "trial " + trial + " op " + op + ": cell " + i + " handed out twice");
                        used[i] = true;
                    }
                    live.add(new int[] {at, size});
                }
            }
        }
    }
}
