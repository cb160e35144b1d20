package dev.kiln.cpu;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Program;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.kiln.cpu.Check.uniform;
import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

/** {@link CpuExecutable#workspaceBytes()}: the conv scratch a program holds, the backend's part of a memory budget. */
class WorkspaceBytesTest {
    @Test
    void convTrainingProgramReportsItsConvWorkspace() {
        Random r = new Random(31);
        Shape xs = Shape.of(2, 7, 6, 3), ws = Shape.of(3, 3, 3, 37);
        Variable wv = new Variable("w", ws, uniform(r, ws.size(), -1, 1), true);
        Node x = input("x", xs), t = input("t", Shape.of(2, 7, 6, 37));
        Node w = param(wv);
        Node loss = sumAll(mul(relu(conv2d(x, w, Conv2d.of(1, Padding.SAME))), t));
        List<Node> grads = Autodiff.gradients(loss, List.of(w, x));
        Program p = Compiler.compile(new Graph(List.of(loss, grads.get(0), grads.get(1)), List.of()),
                Compiler.Options.defaults().withInputs(List.of(x, t)));
        CpuExecutable e = (CpuExecutable) new CpuBackend().compile(p);
        // the padded 2x9x8x3 input alone needs 432 floats; the workspace is a float array, so whole floats
        assertTrue(e.workspaceBytes() >= 4L * 2 * 9 * 8 * 3, "conv workspace bytes: " + e.workspaceBytes());
        assertEquals(0, e.workspaceBytes() % 4);
        // the figure is fixed at compilation: running the program does not grow it
        long before = e.workspaceBytes();
        e.setInput(0, uniform(r, xs.size(), -1, 1));
        e.setInput(1, uniform(r, 2 * 7 * 6 * 37, -1, 1));
        e.run();
        assertEquals(before, e.workspaceBytes());
    }

    @Test
    void denseOnlyProgramHoldsNoWorkspace() {
        Random r = new Random(37);
        Variable wv = new Variable("w", Shape.of(5, 4), uniform(r, 20, -1, 1), true);
        Node x = input("x", Shape.of(3, 5));
        Node w = param(wv);
        Node loss = sumAll(relu(matmul(x, w)));
        List<Node> grads = Autodiff.gradients(loss, List.of(w));
        Program p = Compiler.compile(new Graph(List.of(loss, grads.get(0)), List.of()),
                Compiler.Options.defaults().withInputs(List.of(x)));
        Executable e = new CpuBackend().compile(p);
        assertEquals(0, e.workspaceBytes());
    }
}
