package dev.kiln.eager;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Eager mode runs on the backend the caller chose: {@link Eager#on} for one computation, {@link Eager#use} for the process. */
class EagerBackendTest {
    /** A backend whose every op writes {@code value}: which backend ran an op shows in the result. */
    private record Constant(String name, float value) implements Backend {
        public int priority() { return 0; }
        public Availability availability() { return Availability.usable(name, List.of()); }
        public Executable compile(Program program) { throw new UnsupportedOperationException(); }
        public void evaluate(Node node, float[][] inputs, float[] out) { Arrays.fill(out, value); }
    }

    @Test
    void onRunsTheBodysOpsOnTheGivenBackendAndNoOthers() throws Exception {
        Tensor a = Tensor.of(Shape.of(2), 1, 2);
        Backend seven = new Constant("seven", 7), nine = new Constant("nine", 9);
        assertArrayEquals(new float[] {7, 7}, Eager.on(seven, () -> a.relu().toArray()));
        assertArrayEquals(new float[] {9, 9}, Eager.on(seven, () -> Eager.on(nine, () -> a.relu().toArray())), "the innermost choice wins");
        assertSame(seven, Eager.on(seven, Eager::backend));
        assertThrows(IllegalArgumentException.class, () -> Eager.on(null, () -> 1));
    }

    @Test
    void useSetsTheBackendOfEveryLaterEagerOp() {
        Backend three = new Constant("three", 3);
        try {
            Eager.use(three);
            assertSame(three, Eager.backend());
            assertEquals(3f, Tensor.of(Shape.of(1), 5).neg().item());
            assertThrows(IllegalArgumentException.class, () -> Eager.use(null));
            assertSame(three, Eager.backend(), "a refused choice changes nothing");
        } finally {
            Eager.forget();
        }
    }
}
