package dev.kiln.cpu.parity;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.testing.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static dev.kiln.cpu.parity.Parity.*;
import static dev.kiln.graph.Ops.matmul;

/**
 * MatMul (plain, transposed operands, batched, broadcast batch) and its two gradients against PyTorch,
 * on the Vector API kernels, the scalar twins and the double interpreter. Every output is a sum of
 * products, so each tensor gets {@link Parity#sum}: relative 1e-5 with a floor for its number of terms.
 */
class MatMulParityTest {
    static List<Arguments> cases() { return Parity.cases("matmul_"); }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void matmulAndGradientsMatchPyTorch(String name, Engine engine) {
        Fixture fx = Fixture.load(name);
        boolean ta = fx.boolAttr("transpose_a"), tb = fx.boolAttr("transpose_b");
        Node a = in(fx, "a"), b = in(fx, "b"), dy = in(fx, "dy");
        Node y = matmul(a, b, ta, tb);
        List<Node> grads = Autodiff.gradients(y, dy, List.of(a, b));
        List<float[]> out = engine.run(new Graph(List.of(y, grads.get(0), grads.get(1)), List.of()),
                List.of(a, b, dy), List.of(fx.get("a"), fx.get("b"), fx.get("dy")));

        int k = ta ? a.shape().dim(-2) : a.shape().dim(-1);
        int m = y.shape().dim(-2), n = y.shape().dim(-1);
        // db sums over M and, when b is broadcast over the batch, over the batch too
        int batchOfY = y.shape().size() / (m * n);
        int dbTerms = m * (b.shape().rank() < y.shape().rank() ? batchOfY : 1);
        double sa = scaleOf(fx.get("a")), sb = scaleOf(fx.get("b")), sdy = scaleOf(fx.get("dy"));
        check("matmul", engine, fx, "y", out.get(0), sum(k, sa * sb));
        check("matmul", engine, fx, "da", out.get(1), sum(n, sdy * sb));
        check("matmul", engine, fx, "db", out.get(2), sum(dbTerms, sa * sdy));
    }

    @AfterAll
    static void report() { Parity.report("matmul"); }
}
