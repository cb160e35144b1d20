package dev.kiln.compile;

import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Placeholder;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.UnaryFn;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Seeded random graphs and evaluation helpers shared by the compiler tests. */
final class GraphFixtures {
    private GraphFixtures() {}

    private static final int[] DIMS = {1, 2, 3, 4, 5, 8};
    // functions that stay finite on finite inputs, so that rewrites like x·0 → 0 cannot differ on NaN
    private static final UnaryFn[] UNARY = {UnaryFn.NEG, UnaryFn.RELU, UnaryFn.TANH, UnaryFn.SIGMOID, UnaryFn.ABS};
    private static final BinaryFn[] BINARY = {BinaryFn.ADD, BinaryFn.SUB, BinaryFn.MUL, BinaryFn.MAX, BinaryFn.MIN};

    /** A variable of the given shape with values in [-1, 1). */
    static Variable variable(String name, Shape s, Random r) {
        float[] v = new float[s.size()];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat() * 2 - 1;
        return new Variable(name, s, v, true);
    }

    /**
     * A random DAG of elementwise, reduce, matmul and reshape nodes over inputs, params and fills,
     * with fan-out (operands are drawn from every node built so far), and one to three outputs.
     */
    static Graph randomGraph(long seed) {
        Random r = new Random(seed);
        List<Node> pool = new ArrayList<>();
        int inputs = 1 + r.nextInt(2);
        for (int i = 0; i < inputs; i++) pool.add(Ops.input("x" + i, Shape.of(dim(r), dim(r))));
        int steps = 4 + r.nextInt(16);
        for (int s = 0; s < steps; s++) {
            Node x = pool.get(pool.size() - 1 - r.nextInt(Math.min(pool.size(), 6)));
            Node y = switch (r.nextInt(9)) {
                case 0, 1 -> Ops.unary(UNARY[r.nextInt(UNARY.length)], x);
                case 2, 3, 4 -> Ops.binary(BINARY[r.nextInt(BINARY.length)], x, operandFor(x, pool, r));
                case 5 -> Ops.where(Ops.greater(x, Ops.scalar(0)), x, operandFor(x, pool, r));
                case 6 -> x.shape().rank() == 0 ? Ops.neg(x) : Ops.sum(x, List.of(r.nextInt(x.shape().rank())), r.nextBoolean());
                case 7 -> x.shape().rank() == 2
                        ? Ops.matmul(x, Ops.param(variable("w" + s, Shape.of(x.shape().dim(1), dim(r)), r)))
                        : Ops.exp(Ops.tanh(x));
                default -> Ops.reshape(x, reshaped(x.shape(), r));
            };
            pool.add(y);
        }
        List<Node> outs = new ArrayList<>();
        outs.add(pool.get(pool.size() - 1));
        int extra = r.nextInt(3);
        for (int i = 0; i < extra; i++) outs.add(pool.get(inputs + r.nextInt(pool.size() - inputs)));
        return new Graph(outs, List.of());
    }

    private static int dim(Random r) { return DIMS[r.nextInt(DIMS.length)]; }

    /** A second operand for x: an earlier node of x's shape, a scalar fill, or a broadcast row/param. */
    private static Node operandFor(Node x, List<Node> pool, Random r) {
        List<Node> same = new ArrayList<>();
        for (Node n : pool) if (n != x && n.shape().equals(x.shape())) same.add(n);
        int c = r.nextInt(4);
        if (c == 0 && !same.isEmpty()) return same.get(r.nextInt(same.size()));
        if (c == 1) return Ops.scalar(new double[] {0, 1, 2, -0.5}[r.nextInt(4)]);
        if (c == 2 && x.shape().rank() >= 1) return Ops.param(variable("b", Shape.of(x.shape().dim(-1)), r));
        return x;
    }

    private static Shape reshaped(Shape s, Random r) {
        if (s.rank() == 2 && r.nextBoolean()) return Shape.of(s.dim(1), s.dim(0));
        if (s.rank() == 2) return Shape.of(s.size());
        return Shape.of(1, s.size());
    }

    /** Random values in [-2, 2) for every Placeholder node of g. */
    static Map<Node, double[]> randomFeeds(Graph g, long seed) {
        Random r = new Random(seed);
        Map<Node, double[]> feeds = new HashMap<>();
        for (Node n : g.schedule()) {
            if (n.op() instanceof Placeholder) {
                double[] v = new double[n.shape().size()];
                for (int i = 0; i < v.length; i++) v[i] = r.nextDouble() * 4 - 2;
                feeds.put(n, v);
            }
        }
        return feeds;
    }

    /** Feeds keyed by the Placeholder nodes of {@code to}, matched by input name. */
    static Map<Node, double[]> sameFeeds(Map<Node, double[]> feeds, Graph to) {
        Map<String, double[]> byName = new HashMap<>();
        for (Map.Entry<Node, double[]> e : feeds.entrySet()) byName.put(((Placeholder) e.getKey().op()).inputName(), e.getValue());
        Map<Node, double[]> out = new HashMap<>();
        for (Node n : to.schedule()) if (n.op() instanceof Placeholder in) out.put(n, byName.get(in.inputName()));
        return out;
    }

    /** Asserts that both graphs' outputs agree on the same inputs, within {@code tol} (absolute + relative). */
    static void assertSameValues(Graph expected, Graph actual, Map<Node, double[]> feeds, double tol) {
        List<double[]> want = new Interpreter().run(expected, feeds);
        List<double[]> got = new Interpreter().run(actual, sameFeeds(feeds, actual));
        assertEquals(want.size(), got.size(), "number of outputs");
        for (int o = 0; o < want.size(); o++) {
            assertEquals(want.get(o).length, got.get(o).length, "size of output " + o);
            for (int i = 0; i < want.get(o).length; i++) {
                double w = want.get(o)[i];
                assertEquals(w, got.get(o)[i], tol * (1 + Math.abs(w)), "output " + o + " element " + i);
            }
        }
    }

    /** Number of instructions a graph compiles to with no passes (one per non-leaf, non-view node). */
    static int instructions(Graph g) {
        return Compiler.compile(g, Compiler.Options.defaults().withPasses(List.of())).instructions().size();
    }
}
