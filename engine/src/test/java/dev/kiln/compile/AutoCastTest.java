package dev.kiln.compile;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Conv2dBackwardData;
import dev.kiln.graph.Conv2dBackwardFilter;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Linear;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Rounding;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class AutoCastTest {
    /** A dense layer and a convolution with their whole backward pass: every product kind there is. */
    private static Graph trainingLike(Random r) {
        Node x = input("x", Shape.of(2, 5, 5, 3));
        Variable wc = GraphFixtures.variable("wc", Shape.of(3, 3, 3, 4), r), wd = GraphFixtures.variable("wd", Shape.of(100, 6), r), b = GraphFixtures.variable("b", Shape.of(6), r);
        Node pwc = param(wc), pwd = param(wd), pb = param(b);
        Node h = relu(conv2d(x, pwc, Conv2d.of(1, Padding.SAME)));
        Node y = add(matmul(reshape(h, Shape.of(2, 100)), pwd), pb);
        Node loss = sumAll(mul(y, y));
        List<Node> outs = new ArrayList<>(List.of(loss));
        outs.addAll(Autodiff.gradients(loss, List.of(pwc, pwd, pb)));
        return new Graph(outs, List.of());
    }

    @Test
    void everyProductOperandIsRoundedAndNothingElse() {
        Graph g = trainingLike(new Random(1));
        Graph h = new AutoCast(Precision.BF16).run(g);
        Verifier.verify("autocast_bf16", g, h);
        int products = 0, rounds = 0;
        for (Node n : h.schedule()) {
            boolean product = n.op() instanceof MatMul || n.op() instanceof Conv2d || n.op() instanceof Conv2dBackwardData || n.op() instanceof Conv2dBackwardFilter;
            if (product) {
                products++;
                for (int i = 0; i < 2; i++) {
                    assertEquals(new Unary(UnaryFn.ROUND_BF16), n.input(i).op(), n.op().name() + " operand " + i);
                }
            }
            if (n.op() instanceof Unary u && u.fn() == UnaryFn.ROUND_BF16) rounds++;
        }
        // forward conv + matmul, and per product two backward products (the conv's input gradient is not asked for, but is built)
        assertTrue(products >= 5, "products: " + products);
        // each rounding feeds a product: none was put anywhere else
        int readByProducts = 0;
        for (Node n : h.schedule()) for (Node in : n.inputs()) if (in.op() instanceof Unary u && u.fn() == UnaryFn.ROUND_BF16) readByProducts++;
        assertEquals(2 * products, readByProducts);
        assertTrue(rounds <= 2 * products);
        Graph noProduct = Graph.of(relu(input("z", Shape.of(3))));
        assertSame(noProduct, new AutoCast(Precision.BF16).run(noProduct), "no product: the graph itself comes back");
    }

    @Test
    void aRoundedProductIsTheExactProductOfRoundedOperands() {
        Random r = new Random(2);
        Node a = input("a", Shape.of(3, 4)), b = input("b", Shape.of(4, 2));
        double[] av = new double[12], bv = new double[8];
        for (int i = 0; i < av.length; i++) av[i] = (float) r.nextGaussian();
        for (int i = 0; i < bv.length; i++) bv[i] = (float) r.nextGaussian();
        Graph h = new AutoCast(Precision.FP16).run(Graph.of(matmul(a, b)));
        double[] got = new Interpreter().evaluate(h.outputs().get(0), Map.of(a, av, b, bv));
        double[] exact = new Interpreter().evaluate(matmul(a, b), Map.of(a, av, b, bv));
        boolean differs = false;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 2; j++) {
                double s = 0;
                for (int k = 0; k < 4; k++) s += (double) Rounding.fp16((float) av[i * 4 + k]) * Rounding.fp16((float) bv[k * 2 + j]);
                assertEquals(s, got[i * 2 + j], 1e-12);
                differs |= Math.abs(exact[i * 2 + j] - s) > 1e-6;
            }
        }
        assertTrue(differs, "rounding to fp16 changed no product: the test would not see a missing rounding");
    }

    @Test
    void compilerRunsAutoCastForTheOptionsPrecisionAndTheProgramCarriesIt() {
        Random r = new Random(3);
        Node x = input("x", Shape.of(4, 7));
        Node w = param(GraphFixtures.variable("w", Shape.of(7, 3), r)), b = param(GraphFixtures.variable("b", Shape.of(3), r));
        Graph g = Graph.of(relu(add(matmul(x, w), b)));
        Program exact = Compiler.compile(g), tf32 = Compiler.compile(g, Compiler.Options.defaults().withPrecision(Precision.TF32));
        assertEquals(Precision.F32, exact.precision());
        assertEquals(Precision.TF32, tf32.precision());
        assertFalse(exact.dump().contains("round_tf32"), exact.dump());
        assertTrue(tf32.dump().contains("round_tf32"), tf32.dump());
        // the rounding does not stop the dense layer folding into one GEMM with bias and relu
        assertTrue(tf32.instructions().stream().anyMatch(i -> i.op() instanceof Linear), tf32.dump());
    }

    @Test
    void f32HasNoPassAndNamesTheMistake() {
        List<Pass> passes = Compiler.defaultPasses();
        assertSame(passes, AutoCast.passesFor(Precision.F32, passes));
        assertEquals("autocast_bf16", AutoCast.passesFor(Precision.BF16, passes).get(0).name());
        assertThrows(IllegalArgumentException.class, () -> new AutoCast(Precision.F32));
    }
}
