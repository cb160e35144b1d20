package dev.kiln.autodiff;

import dev.kiln.graph.*;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Every differentiable op's gradient rule against central finite differences, in double through
 * the {@link Interpreter}: loss = Σ f(inputs) · R with a fixed random R, h = 1e-6, and
 * |analytic - numeric| ≤ 1e-6 · (1 + |analytic|). Why that tolerance: the central difference's
 * truncation error is h²·f'''/6 ≈ 1e-12·f''' and its rounding error ≈ 1e-16·|loss| / h ≈ 1e-10·|loss|;
 * our losses are O(10) and third derivatives O(1e3) at worst (BCE near p = 0.1), so a correct rule
 * lands below 1e-8 and a wrong one (a missing factor, a transposed index) far above 1e-6.
 * Inputs are drawn away from kinks (relu, abs, max ties) and outside log/sqrt/pow's domain edges.
 */
class GradientCheckTest {
    private static final double H = 1e-6, TOLERANCE = 1e-6;

    /** How an input's values are drawn. */
    private record Range(double lo, double hi, boolean randomSign) {
        static Range uniform(double lo, double hi) { return new Range(lo, hi, false); }
        /** |x| in [lo, hi] with a random sign: away from the kink at 0. */
        static Range awayFromZero(double lo, double hi) { return new Range(lo, hi, true); }
        double draw(Random r) {
            double v = lo + (hi - lo) * r.nextDouble();
            return randomSign && r.nextBoolean() ? -v : v;
        }
    }

    private static final Range ANY = Range.uniform(-2, 2), POSITIVE = Range.uniform(0.5, 2), NONZERO = Range.awayFromZero(0.2, 1.5);

    /** One named check: differentiable inputs with their ranges, fixed inputs with values, and f. */
    static final class Case {
        final String name;
        final Map<Node, Range> wrt = new LinkedHashMap<>();
        final Map<Node, double[]> fixed = new LinkedHashMap<>();
        Node f;

        Case(String name) { this.name = name; }

        Node in(String n, Shape s, Range r) { Node x = input(n, s); wrt.put(x, r); return x; }
        Node in(String n, Shape s) { return in(n, s, ANY); }
        Node fixedIn(String n, Shape s, double... values) { Node x = input(n, s); fixed.put(x, values); return x; }

        Class<? extends Op> subject() { return f.op().getClass(); }

        @Override public String toString() { return name; }
    }

    private static Case check(String name, Function<Case, Node> build) {
        Case c = new Case(name);
        c.f = build.apply(c);
        return c;
    }

    private static Shape s(int... d) { return Shape.of(d); }

    // ------------------------------------------------------------------ the catalogue

    static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        for (UnaryFn fn : UnaryFn.values()) {
            if (fn == UnaryFn.SIGN) continue; // flat almost everywhere: checked in signHasZeroGradient
            // steps of 2^-8 relative: finite differences see 0 or a jump; checked in roundingPassesGradientStraightThrough
            if (fn == UnaryFn.ROUND_BF16 || fn == UnaryFn.ROUND_FP16 || fn == UnaryFn.ROUND_TF32) continue;
            Range r = switch (fn) {
                case LOG, SQRT, RSQRT -> POSITIVE;
                case RELU, ABS -> NONZERO;
                case NEG, EXP, SIGMOID, TANH, SIGN, ROUND_BF16, ROUND_FP16, ROUND_TF32 -> ANY;
            };
            cs.add(check("unary " + fn.lowerName(), c -> unary(fn, c.in("x", s(3, 5), r))));
        }
        for (BinaryFn fn : BinaryFn.values()) {
            if (fn.isComparison()) continue; // no gradient: checked in comparisonsDeclareNoGradient
            Range ra = switch (fn) {
                case POW -> POSITIVE;
                case BCE -> Range.uniform(0.1, 0.9);
                case BCE_WITH_LOGITS -> Range.uniform(-3, 3);
                default -> ANY;
            };
            Range rb = switch (fn) {
                case DIV -> NONZERO;
                case BCE, BCE_WITH_LOGITS -> Range.uniform(0, 1);
                default -> ANY;
            };
            cs.add(check("binary " + fn.lowerName() + " [3,5]x[3,5]", c -> binary(fn, c.in("a", s(3, 5), ra), c.in("b", s(3, 5), rb))));
            cs.add(check("binary " + fn.lowerName() + " [2,3,5]x[3,1] broadcast", c -> binary(fn, c.in("a", s(2, 3, 5), ra), c.in("b", s(3, 1), rb))));
            cs.add(check("binary " + fn.lowerName() + " [1,5]x[3,1] broadcast both", c -> binary(fn, c.in("a", s(1, 5), ra), c.in("b", s(3, 1), rb))));
        }
        cs.add(check("where", c -> where(c.fixedIn("cond", s(3, 5), 1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1),
                c.in("a", s(3, 5)), c.in("b", s(5)))));

        List<List<Integer>> axisSets = List.of(List.of(0), List.of(2), List.of(0, 2), List.of(1, 2), List.of(0, 1, 2));
        for (ReduceFn fn : ReduceFn.values()) {
            for (boolean keep : new boolean[] {false, true}) {
                for (List<Integer> axes : axisSets) {
                    cs.add(check("reduce " + fn.lowerName() + " " + axes + (keep ? " keepDims" : ""),
                            c -> reduce(fn, c.in("x", s(3, 2, 5)), axes, keep)));
                }
            }
        }

        cs.add(check("reshape", c -> reshape(c.in("x", s(3, 5)), s(5, 1, 3))));
        cs.add(check("transpose", c -> transpose(c.in("x", s(2, 3, 5)), List.of(2, 0, 1))));
        cs.add(check("broadcast", c -> broadcastTo(c.in("x", s(3, 1)), s(2, 3, 5))));
        cs.add(check("slice", c -> slice(c.in("x", s(5, 7)), List.of(1, 2), List.of(4, 7))));
        cs.add(check("concat", c -> concat(1, List.of(c.in("a", s(3, 2)), c.in("b", s(3, 1)), c.in("c", s(3, 4))))));
        cs.add(check("pad", c -> pad(c.in("x", s(3, 5)), List.of(1, 0), List.of(2, 3), 0.5)));

        cs.add(check("matmul", c -> matmul(c.in("a", s(3, 5)), c.in("b", s(5, 4)))));
        cs.add(check("matmul transposeA", c -> matmul(c.in("a", s(5, 3)), c.in("b", s(5, 4)), true, false)));
        cs.add(check("matmul transposeB", c -> matmul(c.in("a", s(3, 5)), c.in("b", s(4, 5)), false, true)));
        cs.add(check("matmul transposeA transposeB", c -> matmul(c.in("a", s(5, 3)), c.in("b", s(4, 5)), true, true)));
        cs.add(check("matmul batched", c -> matmul(c.in("a", s(2, 3, 5)), c.in("b", s(2, 5, 4)))));
        cs.add(check("matmul broadcast batch", c -> matmul(c.in("a", s(2, 1, 3, 5)), c.in("b", s(3, 5, 4)))));
        cs.add(check("matmul broadcast batch transposed", c -> matmul(c.in("a", s(3, 5, 3)), c.in("b", s(2, 1, 4, 5)), true, true)));

        Map<String, Conv2d> convs = new LinkedHashMap<>();
        convs.put("stride 2 same", Conv2d.of(2, Padding.SAME));
        convs.put("valid", Conv2d.of(1, Padding.VALID));
        convs.put("explicit padding", new Conv2d(1, 2, Padding.explicit(1, 0, 2, 1), 1, 1, 1));
        convs.put("dilation 2", new Conv2d(1, 1, Padding.SAME, 2, 2, 1));
        convs.put("groups 2 stride 2", new Conv2d(2, 2, Padding.SAME, 1, 1, 2));
        for (var e : convs.entrySet()) {
            Conv2d conv = e.getValue();
            Shape xs = s(2, 5, 6, 4), ws = s(3, 3, 4 / conv.groups(), 4);
            Shape ys = conv.geometry(xs, ws).outputShape();
            cs.add(check("conv2d " + e.getKey(), c -> conv2d(c.in("x", xs), c.in("w", ws), conv)));
            cs.add(check("conv2d_backward_data " + e.getKey(), c -> conv2dBackwardData(c.in("dy", ys), c.in("w", ws), conv, xs)));
            cs.add(check("conv2d_backward_filter " + e.getKey(), c -> conv2dBackwardFilter(c.in("x", xs), c.in("dy", ys), conv, ws)));
        }

        Map<String, Pool2d> pools = new LinkedHashMap<>();
        pools.put("max 2 valid", Pool2d.max(2));
        pools.put("max 3 stride 2 same", new Pool2d(Pool2d.Kind.MAX, 3, 3, 2, 2, Padding.SAME));
        pools.put("avg 2 valid", Pool2d.avg(2));
        pools.put("avg 3 stride 2 same", new Pool2d(Pool2d.Kind.AVG, 3, 3, 2, 2, Padding.SAME));
        pools.put("avg 3 stride 1 explicit", new Pool2d(Pool2d.Kind.AVG, 3, 2, 1, 1, Padding.explicit(1, 1, 0, 1)));
        for (var e : pools.entrySet()) {
            Pool2d pool = e.getValue();
            Shape xs = s(2, 5, 5, 3);
            cs.add(check("pool2d " + e.getKey(), c -> pool2d(c.in("x", xs), pool)));
            // max pooling's gradient has no gradient itself: see maxPoolGradDeclaresNoSecondDerivative
            if (pool.kind() == Pool2d.Kind.AVG) {
                cs.add(check("pool2d_grad " + e.getKey(), c -> pool2dGrad(c.in("x", xs), c.in("dy", pool.geometry(xs).outputShape()), pool)));
            }
        }

        cs.add(check("batch_norm free statistics", c -> batchNorm(c.in("x", s(4, 3)), c.in("mean", s(3)), c.in("var", s(3), POSITIVE),
                c.in("gamma", s(3)), c.in("beta", s(3)), 1e-3)));
        cs.add(check("batch_norm training (statistics from x)", c -> {
            Node x = c.in("x", s(2, 3, 3));
            Node mean = mean(x, List.of(0, 1), false);
            Node var = mean(square(sub(x, mean)), List.of(0, 1), false);
            return batchNorm(x, mean, var, c.in("gamma", s(3)), c.in("beta", s(3)), 1e-3);
        }));
        // the same statistics marked as the batch's own: the gradient to x is one BatchNormGrad
        cs.add(check("batch_norm training, fused gradient", c -> {
            Node x = c.in("x", s(2, 3, 3));
            Node mean = mean(x, List.of(0, 1), false);
            Node var = mean(square(sub(x, mean)), List.of(0, 1), false);
            return batchNormOfBatch(x, mean, var, c.in("gamma", s(3)), c.in("beta", s(3)), 1e-3);
        }));
        cs.add(check("dropout", c -> dropout(c.in("x", s(3, 5)), c.fixedIn("step", Shape.SCALAR, 7), 0.3, 1234L)));
        cs.add(check("softmax", c -> softmax(c.in("x", s(3, 5)))));
        cs.add(check("softmax rank 3", c -> softmax(c.in("x", s(2, 3, 4)))));
        cs.add(check("log_softmax", c -> logSoftmax(c.in("x", s(3, 5)))));
        cs.add(check("softmax_cross_entropy soft labels", c -> softmaxCrossEntropy(c.in("logits", s(3, 5)), c.in("labels", s(3, 5), Range.uniform(0, 1)))));
        cs.add(check("softmax_cross_entropy sparse", c -> sparseSoftmaxCrossEntropy(c.in("logits", s(4, 5)), c.fixedIn("labels", s(4), 0, 3, 4, 1))));
        return cs;
    }

    // ------------------------------------------------------------------ the check

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientMatchesFiniteDifferences(Case c) {
        Random rnd = new Random(c.name.hashCode());
        Map<Node, double[]> feeds = new HashMap<>(c.fixed);
        for (var e : c.wrt.entrySet()) {
            double[] v = new double[e.getKey().shape().size()];
            for (int i = 0; i < v.length; i++) v[i] = e.getValue().draw(rnd);
            feeds.put(e.getKey(), v);
        }
        float[] r = new float[c.f.shape().size()];
        for (int i = 0; i < r.length; i++) r[i] = (float) (rnd.nextDouble() * 2 - 1);
        Node loss = sumAll(mul(c.f, constant(c.f.shape(), r)));

        List<Node> wrt = new ArrayList<>(c.wrt.keySet());
        List<Node> grads = Autodiff.gradients(loss, wrt);
        Interpreter interpreter = new Interpreter();
        List<double[]> analytic = interpreter.run(new Graph(grads, List.of()), feeds);

        for (int k = 0; k < wrt.size(); k++) {
            Node x = wrt.get(k);
            double[] values = feeds.get(x);
            double[] a = analytic.get(k);
            assertEquals(values.length, a.length, "gradient size for " + x.describe());
            for (int i = 0; i < values.length; i++) {
                double saved = values[i];
                values[i] = saved + H;
                double plus = interpreter.evaluate(loss, feeds)[0];
                values[i] = saved - H;
                double minus = interpreter.evaluate(loss, feeds)[0];
                values[i] = saved;
                double numeric = (plus - minus) / (2 * H);
                int idx = i;
                assertEquals(numeric, a[i], TOLERANCE * (1 + Math.abs(a[i])),
                        () -> c.name + ": d loss / d " + ((Placeholder) x.op()).inputName() + "[" + idx + "] analytic " + a[idx] + " vs numeric " + numeric);
            }
        }
    }

    // ------------------------------------------------------------------ ops declared not differentiable

    @Test
    void comparisonsDeclareNoGradient() {
        Node a = input("a", s(3)), b = input("b", s(3));
        for (BinaryFn fn : BinaryFn.values()) {
            if (!fn.isComparison()) continue;
            Node y = binary(fn, a, b);
            List<Node> g = primitive(y).gradient(y, ones(y));
            assertEquals(Arrays.asList(null, null), g, fn.lowerName());
            List<Node> viaAutodiff = Autodiff.gradients(sumAll(y), List.of(a, b));
            for (Node d : viaAutodiff) assertArrayEquals(new double[3], new Interpreter().evaluate(d, Map.of(a, new double[] {1, 2, 3}, b, new double[] {3, 2, 1})), 0.0);
        }
    }

    @Test
    void signHasZeroGradient() {
        Node x = input("x", s(4));
        Node d = Autodiff.gradients(sumAll(sign(x)), List.of(x)).get(0);
        assertArrayEquals(new double[4], new Interpreter().evaluate(d, Map.of(x, new double[] {-2, -0.5, 0.5, 2})), 0.0);
    }

    /** A cast's gradient is the incoming gradient unchanged (autograd's gradient of .to(dtype)), whatever the value's rounding did. */
    @Test
    void roundingPassesGradientStraightThrough() {
        for (UnaryFn fn : List.of(UnaryFn.ROUND_BF16, UnaryFn.ROUND_FP16, UnaryFn.ROUND_TF32)) {
            Node x = input("x", s(4)), w = input("w", s(4));
            Node d = Autodiff.gradients(sumAll(mul(unary(fn, x), w)), List.of(x)).get(0);
            assertArrayEquals(new double[] {0.3, -7, 1e5, 2}, new Interpreter().evaluate(d, Map.of(x, new double[] {1.001, -3.14159, 7e4, 1e-9}, w, new double[] {0.3, -7, 1e5, 2})), 0.0, fn.lowerName());
        }
    }

    @Test
    void indexAndStepInputsDeclareNoGradient() {
        Node idx = input("idx", s(3));
        Node oh = oneHot(idx, 4);
        assertEquals(Arrays.asList((Node) null), primitive(oh).gradient(oh, ones(oh)), "one_hot");
        Node x = input("x", s(3)), step = input("step", Shape.SCALAR);
        Node d = dropout(x, step, 0.5, 1L);
        assertNull(primitive(d).gradient(d, ones(d)).get(1), "dropout step");
        Node w = where(idx, x, x);
        assertNull(primitive(w).gradient(w, ones(w)).get(0), "where condition");
    }

    /** The ops that are not primitives: the compiler's and the in-place updates. */
    private static final List<Class<? extends Op>> NOT_PRIMITIVE = List.of(Linear.class, ConvBias.class, Fused.class,
            SgdUpdate.class, AdamUpdate.class, Assign.class);

    @Test
    void compilerOpsAndUpdatesHaveNoGradientMethod() {
        // autodiff cannot call what does not exist: only primitives declare gradient(out, g)
        for (Class<? extends Op> op : NOT_PRIMITIVE) {
            for (java.lang.reflect.Method m : op.getMethods()) {
                assertNotEquals("gradient", m.getName(), op.getSimpleName() + " should not have a gradient method");
            }
        }
        assertEquals(Set.copyOf(NOT_PRIMITIVE), concreteOps(Lowered.class, Effect.class));
    }

    @Test
    void autodiffRejectsCompilerOpsNamingThem() {
        Node x = input("x", s(2, 3)), w = input("w", s(3, 4)), b = input("b", s(4));
        Node linear = node(new Linear(false, false, Epilogue.Activation.RELU), x, w, b);
        var e = assertThrows(IllegalArgumentException.class, () -> Autodiff.gradients(sumAll(linear), List.of(x)));
        assertTrue(e.getMessage().contains("linear_relu") && e.getMessage().contains("made by the compiler after autodiff"), e.getMessage());
    }

    /** The records in the sealed families {@code roots}, through nested sealed interfaces. */
    @SafeVarargs
    private static Set<Class<?>> concreteOps(Class<? extends Op>... roots) {
        Set<Class<?>> out = new HashSet<>();
        List<Class<?>> todo = new ArrayList<>(List.of(roots));
        while (!todo.isEmpty()) {
            Class<?> c = todo.remove(todo.size() - 1);
            if (c.isSealed()) todo.addAll(List.of(c.getPermittedSubclasses()));
            else out.add(c);
        }
        return out;
    }

    @Test
    void maxPoolGradDeclaresNoSecondDerivative() {
        Node x = input("x", s(1, 4, 4, 1)), dy = input("dy", s(1, 2, 2, 1));
        Node g = pool2dGrad(x, dy, Pool2d.max(2));
        var e = assertThrows(UnsupportedOperationException.class, () -> primitive(g).gradient(g, ones(g)));
        assertTrue(e.getMessage().contains("max pooling"), e.getMessage());
    }

    @Test
    void batchNormGradDeclaresNoSecondDerivative() {
        Node x = input("x", s(4, 3)), c = input("c", s(3));
        Node g = batchNormGrad(x, input("dy", s(4, 3)), c, c, c, 1e-3);
        var e = assertThrows(UnsupportedOperationException.class, () -> primitive(g).gradient(g, ones(g)));
        assertTrue(e.getMessage().contains("second derivative of batch norm"), e.getMessage());
    }

    private static Node ones(Node n) { return full(n.shape(), 1); }

    private static Primitive primitive(Node n) { return (Primitive) n.op(); }

    /** Primitives whose non-differentiability is asserted by the tests above. */
    private static final Set<Class<? extends Op>> DECLARED_NOT_DIFFERENTIABLE = Set.of(OneHot.class, BatchNormGrad.class);

    @Test
    void everyOpInTheCatalogueIsCovered() {
        Set<Class<?>> covered = new HashSet<>(DECLARED_NOT_DIFFERENTIABLE);
        // sign: signHasZeroGradient; the roundings: roundingPassesGradientStraightThrough
        Set<UnaryFn> unary = EnumSet.of(UnaryFn.SIGN, UnaryFn.ROUND_BF16, UnaryFn.ROUND_FP16, UnaryFn.ROUND_TF32);
        Set<BinaryFn> binary = EnumSet.noneOf(BinaryFn.class);
        for (BinaryFn fn : BinaryFn.values()) if (fn.isComparison()) binary.add(fn);
        Set<ReduceFn> reduce = EnumSet.noneOf(ReduceFn.class);
        for (Case c : cases()) {
            covered.add(c.subject());
            if (c.f.op() instanceof Unary u) unary.add(u.fn());
            if (c.f.op() instanceof Binary b) binary.add(b.fn());
            if (c.f.op() instanceof Reduce r) reduce.add(r.fn());
        }
        List<String> missing = new ArrayList<>();
        // every primitive (the only ops with a gradient rule) but the leaves, which have no inputs
        for (Class<?> op : concreteOps(Primitive.class)) {
            if (Leaf.class.isAssignableFrom(op)) continue;
            if (!covered.contains(op)) missing.add(op.getSimpleName());
        }
        for (UnaryFn fn : UnaryFn.values()) if (!unary.contains(fn)) missing.add("UnaryFn." + fn);
        for (BinaryFn fn : BinaryFn.values()) if (!binary.contains(fn)) missing.add("BinaryFn." + fn);
        for (ReduceFn fn : ReduceFn.values()) if (!reduce.contains(fn)) missing.add("ReduceFn." + fn);
        assertTrue(missing.isEmpty(), "ops without a gradient check: " + missing);
    }
}
