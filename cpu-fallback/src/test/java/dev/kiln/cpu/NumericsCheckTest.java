package dev.kiln.cpu;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class NumericsCheckTest {
    private static Executable compile(boolean check) {
        Node x = input("x", Shape.of(4));
        Node y = mul(sqrt(x), scalar(2));        // sqrt of a negative number is the first NaN
        Node z = matmul(reshape(y, Shape.of(1, 4)), reshape(y, Shape.of(4, 1)));
        var opts = Compiler.Options.defaults().withInputs(List.of(x)).withCheckNumerics(check);
        return new CpuBackend().compile(Compiler.compile(Graph.of(z), opts));
    }

    @Test
    void checkedProgramNamesTheFirstOpThatProducedNaN() {
        Executable e = compile(true);
        e.setInput(0, new float[] {1, 4, -1, 9});
        ArithmeticException ex = assertThrows(ArithmeticException.class, e::run);
        assertTrue(ex.getMessage().contains("sqrt"), ex.getMessage());
        assertTrue(ex.getMessage().contains("element 2"), ex.getMessage());
        assertTrue(ex.getMessage().contains("NumericsCheckTest"), "message names the call site: " + ex.getMessage());
    }

    @Test
    void checkedProgramRunsCleanInputsAndUncheckedOneDoesNotThrow() {
        Executable checked = compile(true);
        checked.setInput(0, new float[] {1, 4, 0, 9});
        checked.run();
        assertEquals(4 * (1 + 4 + 0 + 9), checked.outputScalar(0), 1e-4);

        Executable unchecked = compile(false);
        unchecked.setInput(0, new float[] {1, 4, -1, 9});
        unchecked.run();
        assertTrue(Float.isNaN(unchecked.outputScalar(0)));
    }
}
