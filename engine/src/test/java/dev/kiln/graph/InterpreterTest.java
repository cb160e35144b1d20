package dev.kiln.graph;

import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Hand-computed values per op family. Tolerance: 1e-12 absolute where the expected value is exact
 * in a few double operations; 1e-8 where it is written to 9 digits.
 */
class InterpreterTest {
    private static final double EXACT = 1e-12, DIGITS = 1e-8;

    private static double[] eval(Node n, Object... feeds) {
        Map<Node, double[]> m = new java.util.HashMap<>();
        for (int i = 0; i < feeds.length; i += 2) m.put((Node) feeds[i], (double[]) feeds[i + 1]);
        return new Interpreter().evaluate(n, m);
    }

    private static final double[] ONE_TO_NINE = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    @Test
    void conv3x3OfOnesSumsEachNeighbourhoodWithSamePadding() {
        Node x = input("x", Shape.of(1, 3, 3, 1));
        Node w = full(Shape.of(3, 3, 1, 1), 1);
        double[] y = eval(conv2d(x, w, Conv2d.of(1, Padding.SAME)), x, ONE_TO_NINE);
        // 1 2 3 / 4 5 6 / 7 8 9, zero-padded: corner 1+2+4+5, edge 1+2+3+4+5+6, centre all
        assertArrayEquals(new double[] {12, 21, 16, 27, 45, 33, 24, 39, 28}, y, EXACT);
        assertArrayEquals(new double[] {45}, eval(conv2d(x, w, Conv2d.of(1, Padding.VALID)), x, ONE_TO_NINE), EXACT);
        // stride 2 SAME on 3x3: out 2x2, pad 1 on each side, windows centred on the corners
        assertArrayEquals(new double[] {12, 16, 24, 28}, eval(conv2d(x, w, Conv2d.of(2, Padding.SAME)), x, ONE_TO_NINE), EXACT);
    }

    @Test
    void convDilationAndAsymmetricSamePadding() {
        double[] oneTo25 = new double[25];
        for (int i = 0; i < 25; i++) oneTo25[i] = i + 1;
        Node x5 = input("x", Shape.of(1, 5, 5, 1));
        Node w = full(Shape.of(3, 3, 1, 1), 1);
        // dilation 2, valid: taps at rows and columns 0, 2, 4 → 1+3+5 + 11+13+15 + 21+23+25
        assertArrayEquals(new double[] {117}, eval(conv2d(x5, w, new Conv2d(1, 1, Padding.VALID, 2, 2, 1)), x5, oneTo25), EXACT);
        // 4x4 input, 3x3 window, stride 2, SAME: out 2x2, total padding 1, all of it at the bottom/right
        Node x4 = input("x", Shape.of(1, 4, 4, 1));
        double[] oneTo16 = java.util.Arrays.copyOf(oneTo25, 16);
        assertArrayEquals(new double[] {54, 45, 72, 54}, eval(conv2d(x4, w, Conv2d.of(2, Padding.SAME)), x4, oneTo16), EXACT);
    }

    @Test
    void convWithTwoGroupsKeepsChannelsApart() {
        // x [1,1,1,2] = (3, 5); 1x1 filters [1,1,1,2]: group 0 sees channel 0 only, group 1 channel 1 only
        Node x = input("x", Shape.of(1, 1, 1, 2));
        Node w = constant(Shape.of(1, 1, 1, 2), new float[] {2, 10});
        double[] y = eval(conv2d(x, w, new Conv2d(1, 1, Padding.VALID, 1, 1, 2)), x, new double[] {3, 5});
        assertArrayEquals(new double[] {6, 50}, y, EXACT);
    }

    @Test
    void convBackwardDataIsTheTransposeOfConv() {
        // dy = 1 everywhere on a 3x3 SAME conv of ones: dx[i] counts the outputs whose window holds i
        Node dy = full(Shape.of(1, 3, 3, 1), 1);
        Node w = full(Shape.of(3, 3, 1, 1), 1);
        double[] dx = eval(conv2dBackwardData(dy, w, Conv2d.of(1, Padding.SAME), Shape.of(1, 3, 3, 1)));
        assertArrayEquals(new double[] {4, 6, 4, 6, 9, 6, 4, 6, 4}, dx, EXACT);
        Node x = input("x", Shape.of(1, 3, 3, 1));
        // dw[ky,kx] with dy = 1 sums the inputs that tap (ky,kx) sees: the same pattern as the SAME conv above
        double[] dw = eval(conv2dBackwardFilter(x, dy, Conv2d.of(1, Padding.SAME), Shape.of(3, 3, 1, 1)), x, ONE_TO_NINE);
        assertArrayEquals(new double[] {12, 21, 16, 27, 45, 33, 24, 39, 28}, dw, EXACT);
        // VALID with a single output: dw is the input patch itself
        assertArrayEquals(ONE_TO_NINE, eval(conv2dBackwardFilter(x, full(Shape.of(1, 1, 1, 1), 1), Conv2d.of(1, Padding.VALID), Shape.of(3, 3, 1, 1)), x, ONE_TO_NINE), EXACT);
    }

    @Test
    void matmulInAllTransposeCasesGivesTheSameProduct() {
        // [[1,2],[3,4]] · [[5,6],[7,8]] = [[19,22],[43,50]]
        Node a = constant(Shape.of(2, 2), new float[] {1, 2, 3, 4}), at = constant(Shape.of(2, 2), new float[] {1, 3, 2, 4});
        Node b = constant(Shape.of(2, 2), new float[] {5, 6, 7, 8}), bt = constant(Shape.of(2, 2), new float[] {5, 7, 6, 8});
        double[] expected = {19, 22, 43, 50};
        assertArrayEquals(expected, eval(matmul(a, b)), EXACT);
        assertArrayEquals(expected, eval(matmul(at, b, true, false)), EXACT);
        assertArrayEquals(expected, eval(matmul(a, bt, false, true)), EXACT);
        assertArrayEquals(expected, eval(matmul(at, bt, true, true)), EXACT);
    }

    @Test
    void matmulBroadcastsBatchAxes() {
        // a [2,1,2] (two row vectors), b [2,1]: each batch row · b
        Node a = constant(Shape.of(2, 1, 2), new float[] {1, 2, 3, 4});
        Node b = constant(Shape.of(2, 1), new float[] {10, 1});
        Node c = matmul(a, b);
        assertEquals(Shape.of(2, 1, 1), c.shape());
        assertArrayEquals(new double[] {12, 34}, eval(c), EXACT);
    }

    @Test
    void softmaxAndLogSoftmaxOfOneTwoThree() {
        Node x = constant(Shape.of(1, 3), new float[] {1, 2, 3});
        assertArrayEquals(new double[] {0.0900305732, 0.2447284711, 0.6652409558}, eval(softmax(x)), DIGITS);
        assertArrayEquals(new double[] {-2.4076059644, -1.4076059644, -0.4076059644}, eval(logSoftmax(x)), DIGITS);
        // large logits stay finite: the max is subtracted first
        Node big = constant(Shape.of(2), new float[] {1000, 1000});
        assertArrayEquals(new double[] {0.5, 0.5}, eval(softmax(big)), EXACT);
    }

    @Test
    void softmaxCrossEntropyOfEqualLogitsIsLogOfClassCount() {
        Node z = constant(Shape.of(2, 2), new float[] {0, 0, 3, 3});
        Node labels = constant(Shape.of(2, 2), new float[] {1, 0, 0.5f, 0.5f});
        assertArrayEquals(new double[] {Math.log(2), Math.log(2)}, eval(softmaxCrossEntropy(z, labels)), EXACT);
        Node idx = constant(Shape.of(2), new float[] {1, 0});
        assertArrayEquals(new double[] {Math.log(2), Math.log(2)}, eval(sparseSoftmaxCrossEntropy(z, idx)), EXACT);
    }

    @Test
    void poolingWithSamePaddingExcludesPaddingFromAverageAndMax() {
        // 3x3 input, window 2 stride 2 SAME: out 2x2, one padding row/column at the bottom/right
        Node x = input("x", Shape.of(1, 3, 3, 1));
        Pool2d max = new Pool2d(Pool2d.Kind.MAX, 2, 2, 2, 2, Padding.SAME);
        Pool2d avg = new Pool2d(Pool2d.Kind.AVG, 2, 2, 2, 2, Padding.SAME);
        assertArrayEquals(new double[] {5, 6, 8, 9}, eval(pool2d(x, max), x, ONE_TO_NINE), EXACT);
        assertArrayEquals(new double[] {3, 4.5, 7.5, 9}, eval(pool2d(x, avg), x, ONE_TO_NINE), EXACT);
        // explicit padding 1, window 3, stride 1, max over negatives: padding is -inf, never chosen
        Pool2d maxPad = new Pool2d(Pool2d.Kind.MAX, 3, 3, 1, 1, Padding.symmetric(1, 1));
        double[] neg = new double[9];
        for (int i = 0; i < 9; i++) neg[i] = -ONE_TO_NINE[i];
        assertArrayEquals(new double[] {-1, -1, -2, -1, -1, -2, -4, -4, -5}, eval(pool2d(x, maxPad), x, neg), EXACT);
    }

    @Test
    void maxPoolGradientGoesToTheFirstMaximumOfATie() {
        Node x = input("x", Shape.of(1, 2, 2, 1));
        Node dy = constant(Shape.of(1, 1, 1, 1), new float[] {7});
        assertArrayEquals(new double[] {0, 7, 0, 0}, eval(pool2dGrad(x, dy, Pool2d.max(2)), x, new double[] {1, 4, 4, 4}), EXACT);
        assertArrayEquals(new double[] {1.75, 1.75, 1.75, 1.75}, eval(pool2dGrad(x, dy, Pool2d.avg(2)), x, new double[] {1, 4, 4, 4}), EXACT);
    }

    @Test
    void broadcastingReductionsAndMovement() {
        Node a = constant(Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, 6});
        Node b = constant(Shape.of(3), new float[] {10, 20, 30});
        assertArrayEquals(new double[] {11, 22, 33, 14, 25, 36}, eval(add(a, b)), EXACT);
        assertArrayEquals(new double[] {5, 7, 9}, eval(sum(a, List.of(0), false)), EXACT);
        assertArrayEquals(new double[] {2, 5}, eval(mean(a, List.of(1), true)), EXACT);
        assertArrayEquals(new double[] {6}, eval(max(a, List.of(0, 1), false)), EXACT);
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, eval(transpose(a, List.of(1, 0))), EXACT);
        assertArrayEquals(new double[] {5, 6}, eval(slice(a, List.of(1, 1), List.of(2, 3))), EXACT);
        assertArrayEquals(new double[] {1, 2, 3, 10, 4, 5, 6, 10}, eval(concat(1, List.of(a, full(Shape.of(2, 1), 10)))), EXACT);
        assertArrayEquals(new double[] {0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0}, eval(pad(a, List.of(1, 0), List.of(0, 1), 0)), EXACT);
        assertArrayEquals(new double[] {10, 20, 30, 10, 20, 30}, eval(broadcastTo(b, Shape.of(2, 3))), EXACT);
        assertArrayEquals(new double[] {1, 20, 3, 20, 5, 20}, eval(where(constant(Shape.of(2), new float[] {1, 0}), reshape(a, Shape.of(3, 2)), scalar(20))), EXACT);
    }

    @Test
    void batchNormNormalisesTheLastAxis() {
        Node x = constant(Shape.of(2, 2), new float[] {1, 10, 3, 20});
        Node mean = constant(Shape.of(2), new float[] {2, 15});
        Node var = constant(Shape.of(2), new float[] {1, 25});
        Node gamma = constant(Shape.of(2), new float[] {2, 1});
        Node beta = constant(Shape.of(2), new float[] {0, 100});
        // ((1-2)/1)*2+0, ((10-15)/5)*1+100, ((3-2)/1)*2, ((20-15)/5)+100
        assertArrayEquals(new double[] {-2, 99, 2, 101}, eval(batchNorm(x, mean, var, gamma, beta, 0)), EXACT);
    }

    @Test
    void dropoutKeepsExactlyThePhiloxMaskAndScalesByOneOverKeep() {
        Node x = full(Shape.of(64), 3);
        Node step = scalar(5);
        double[] y = eval(dropout(x, step, 0.25, 42L));
        int kept = 0;
        for (int i = 0; i < y.length; i++) {
            boolean keep = Philox.keep(42L, 5, i, 0.25);
            assertEquals(keep ? 4.0 : 0.0, y[i], EXACT, "element " + i);
            if (keep) kept++;
        }
        assertTrue(kept > 30 && kept < 64, "a 25% dropout of 64 keeps between 31 and 63, kept " + kept);
    }

    @Test
    void oneHotRejectsFractionalAndOutOfRangeIndices() {
        Node idx = input("labels", Shape.of(3));
        assertArrayEquals(new double[] {0, 1, 0, 1, 0, 0, 0, 0, 1}, eval(oneHot(idx, 3), idx, new double[] {1, 0, 2}), EXACT);
        var e = assertThrows(IllegalArgumentException.class, () -> eval(oneHot(idx, 3), idx, new double[] {1, 2.5, 0}));
        assertTrue(e.getMessage().contains("2.5") && e.getMessage().contains("position 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> eval(oneHot(idx, 3), idx, new double[] {3, 0, 0}));
        assertTrue(e.getMessage().contains("3.0") && e.getMessage().contains("position 0"), e.getMessage());
    }

    @Test
    void missingOrWrongSizedFeedsNameTheInput() {
        Node x = input("pixels", Shape.of(2, 3));
        var e = assertThrows(IllegalArgumentException.class, () -> eval(relu(x)));
        assertTrue(e.getMessage().contains("pixels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> eval(relu(x), x, new double[5]));
        assertTrue(e.getMessage().contains("pixels") && e.getMessage().contains("6") && e.getMessage().contains("5"), e.getMessage());
    }

    /** Two float ulps of 1: the optimizers' results are float (AdamUpdate.step, SgdUpdate.step). */
    private static final double F32 = 2 * Math.ulp(1f);

    @Test
    void adamTwoStepsMatchHandCalculation() {
        Variable p = new Variable("p", Shape.of(1), new float[] {1}, true);
        Variable m = Variable.zeros("m", Shape.of(1)), v = Variable.zeros("v", Shape.of(1));
        Node grad = input("g", Shape.of(1)), t = input("t", Shape.SCALAR);
        AdamUpdate adam = new AdamUpdate(0.9, 0.999, 1e-8, 0, false);
        Graph step = new Graph(List.of(), List.of(adamUpdate(param(p), grad, param(m), param(v), scalar(0.1), t, adam)));
        Interpreter it = new Interpreter();
        it.run(step, Map.of(grad, new double[] {0.5}, t, new double[] {1}));
        // Adam's meaning is float arithmetic (AdamUpdate.step, as PyTorch's): the hand values in double agree
        // within F32 (2 float ulps of values near 1; the moments' within 2 ulps of their own size)
        // step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25: p = 1 - 0.1 · 0.5 / (0.5 + 1e-8)
        assertEquals(0.05, it.variable(m)[0], 2 * Math.ulp(0.05f));
        assertEquals(0.00025, it.variable(v)[0], 2 * Math.ulp(0.00025f));
        assertEquals(1 - 0.1 * 0.5 / (0.5 + 1e-8), it.variable(p)[0], F32);
        it.run(step, Map.of(grad, new double[] {0.25}, t, new double[] {2}));
        // step 2: m = 0.9·0.05 + 0.1·0.25 = 0.07, v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225,
        // p -= 0.1 / 0.19 · 0.07 / (sqrt(0.00031225) / sqrt(0.001999) + 1e-8) = 0.0932179615...
        double p1 = 1 - 0.1 * 0.5 / (0.5 + 1e-8);
        assertEquals(0.07, it.variable(m)[0], 2 * Math.ulp(0.07f));
        assertEquals(0.00031225, it.variable(v)[0], 2 * Math.ulp(0.00031225f));
        assertEquals(p1 - 0.0932179615, it.variable(p)[0], F32);
        // the Variable's own f32 storage is untouched: the interpreter keeps its own state
        assertEquals(1f, p.value()[0]);
    }

    @Test
    void adamWDecaysBeforeTheStepAndAdamAddsDecayToTheGradient() {
        Variable p = new Variable("p", Shape.of(1), new float[] {1}, true);
        Variable m = Variable.zeros("m", Shape.of(1)), v = Variable.zeros("v", Shape.of(1));
        Interpreter it = new Interpreter();
        it.run(new Graph(List.of(), List.of(adamUpdate(param(p), full(Shape.of(1), 0.5), param(m), param(v), scalar(0.1), scalar(1),
                new AdamUpdate(0.9, 0.999, 0, 0.01, true)))), Map.of());
        // p = 1 · (1 - 0.1·0.01) - 0.1 (the first bias-corrected step is lr · sign(g) when eps = 0)
        assertEquals(0.999 - 0.1, it.variable(p)[0], F32);
        Interpreter coupled = new Interpreter();
        coupled.run(new Graph(List.of(), List.of(adamUpdate(param(p), full(Shape.of(1), 0.5), param(m), param(v), scalar(0.1), scalar(1),
                new AdamUpdate(0.9, 0.999, 0, 0.1, false)))), Map.of());
        // g' = 0.5 + 0.1·1 = 0.6: m = 0.06, first step still lr · sign
        assertEquals(0.06, coupled.variable(m)[0], 2 * Math.ulp(0.06f));
        assertEquals(0.9, coupled.variable(p)[0], F32);
    }

    @Test
    void sgdNesterovMomentumMatchesPyTorch() {
        Variable p = new Variable("p", Shape.of(2), new float[] {1, -1}, true);
        Variable vel = Variable.zeros("vel", Shape.of(2));
        Interpreter it = new Interpreter();
        Graph step = new Graph(List.of(), List.of(sgdUpdate(param(p), constant(Shape.of(2), new float[] {0.5f, 0.25f}), param(vel), scalar(0.1),
                new SgdUpdate(0.9, true, 0.1))));
        it.run(step, Map.of());
        // g' = g + 0.1 p = (0.6, 0.15); v = g'; d = g' + 0.9 v = 1.9 g'; p -= 0.1 d
        // (SGD's meaning is float arithmetic, SgdUpdate.step: hand values in double agree within F32)
        assertArrayEquals(new double[] {0.6, 0.15}, it.variable(vel), F32);
        assertArrayEquals(new double[] {1 - 0.1 * 1.9 * 0.6, -1 - 0.1 * 1.9 * 0.15}, it.variable(p), F32);
        // plain SGD ignores the velocity input
        Interpreter plain = new Interpreter();
        plain.run(new Graph(List.of(), List.of(sgdUpdate(param(p), constant(Shape.of(2), new float[] {0.5f, 0.25f}), param(p), scalar(0.1),
                new SgdUpdate(0, false, 0)))), Map.of());
        assertArrayEquals(new double[] {0.95, -1.025}, plain.variable(p), F32);
    }

    @Test
    void effectsRunAfterEveryValueSoOutputsSeeTheOldParameter() {
        Variable p = new Variable("p", Shape.of(1), new float[] {2}, true);
        Node read = mul(param(p), scalar(3));
        Graph g = new Graph(List.of(read), List.of(sgdUpdate(param(p), full(Shape.of(1), 1), param(p), scalar(0.5), new SgdUpdate(0, false, 0))));
        Interpreter it = new Interpreter(Map.of(p, new double[] {2}));
        assertArrayEquals(new double[] {6}, it.run(g, Map.of()).get(0), EXACT);
        assertArrayEquals(new double[] {1.5}, it.variable(p), EXACT);
        assertArrayEquals(new double[] {4.5}, it.run(g, Map.of()).get(0), EXACT);
    }

    @Test
    void fusedChainEqualsTheUnfusedOps() {
        // relu(a · b + c) with b broadcast: steps index externals 0..2, then steps 3, 4
        Node a = constant(Shape.of(2, 2), new float[] {1, -2, 3, -4});
        Node b = constant(Shape.of(2), new float[] {2, 1});
        Node c = scalar(-1);
        Fused f = new Fused(List.of(
                new Fused.Step(new Binary(BinaryFn.MUL), List.of(0, 1)),
                new Fused.Step(new Binary(BinaryFn.ADD), List.of(3, 2)),
                new Fused.Step(new Unary(UnaryFn.RELU), List.of(4))), Shape.of(2, 2));
        assertArrayEquals(eval(relu(add(mul(a, b), c))), eval(node(f, a, b, c)), EXACT);
        assertArrayEquals(new double[] {1, 0, 5, 0}, eval(node(f, a, b, c)), EXACT);
    }
}
