package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.kiln.graph.DenseReference.*;

/**
 * The scalar reference meaning of every op, in double precision: plain loops that read like the
 * math ({@link DenseReference}, {@link SpatialReference}), one exhaustive switch over the op catalogue
 * here (no default, so a new op does not compile until it has a meaning). Every kernel on every
 * backend is tested against this class; it is slow on purpose and allocates freely.
 *
 * <pre>{@code
 * Node x = Ops.input("x", Shape.of(2, 3));
 * Node y = Ops.relu(x);
 * double[] out = new Interpreter().evaluate(y, Map.of(x, new double[] {1, -2, 3, -4, 5, -6}));
 * }</pre>
 */
public final class Interpreter {
    /** Variable state in double; optimizer updates replace entries (never mutate arrays already handed out). */
    private final Map<Variable, double[]> variables;

    /** State: variables in double; a variable not in the map is read from Variable.value() on first use. */
    public Interpreter() { this(new HashMap<>()); }

    public Interpreter(Map<Variable, double[]> variables) {
        this.variables = new HashMap<>();
        for (Map.Entry<Variable, double[]> e : variables.entrySet()) {
            Variable v = e.getKey();
            checkSize("variable " + v.name(), v.shape(), e.getValue());
            this.variables.put(v, e.getValue().clone());
        }
    }

    /** Evaluates g.outputs() given values for its Placeholder nodes, then applies g.effects() to the variable state. */
    public List<double[]> run(Graph g, Map<Node, double[]> feeds) {
        Map<Node, double[]> values = new HashMap<>();
        // the schedule puts effects after every value, and params are read as copies, so no update
        // is seen by a read in the same run
        for (Node n : g.schedule()) values.put(n, compute(n, values, feeds));
        List<double[]> out = new ArrayList<>(g.outputs().size());
        for (Node o : g.outputs()) out.add(values.get(o).clone());
        return out;
    }

    /** Value of one node (and everything it needs). */
    public double[] evaluate(Node n, Map<Node, double[]> feeds) {
        if (n.op() instanceof Effect) throw new IllegalArgumentException(n.describe() + " is an in-place update with no value; run it in a Graph's effects");
        return run(Graph.of(n), feeds).get(0);
    }

    /** Current state of v (in double). */
    public double[] variable(Variable v) { return read(v).clone(); }

    private double[] read(Variable v) {
        return variables.computeIfAbsent(v, k -> {
            float[] f = k.value();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) d[i] = f[i];
            return d;
        });
    }

    private static void checkSize(String what, Shape shape, double[] data) {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException(what + " has shape " + shape + " (" + shape.size() + " values) but was given " + data.length + " values");
        }
    }

    // ------------------------------------------------------------------ the op catalogue

    private double[] compute(Node n, Map<Node, double[]> values, Map<Node, double[]> feeds) {
        double[][] in = new double[n.inputs().size()][];
        for (int i = 0; i < in.length; i++) in[i] = values.get(n.input(i));
        Shape out = n.shape();
        return switch (n.op()) {
            case Placeholder i -> {
                double[] fed = feeds.get(n);
                if (fed == null) throw new IllegalArgumentException("input '" + i.inputName() + "' " + i.shape() + " was not fed (" + n.describe() + ")");
                checkSize("input '" + i.inputName() + "'", i.shape(), fed);
                yield fed.clone();
            }
            case Param p -> read(p.variable()).clone();
            case Full f -> { double[] y = new double[out.size()]; Arrays.fill(y, f.value()); yield y; }
            case Constant c -> { double[] y = new double[c.data().length]; for (int i = 0; i < y.length; i++) y[i] = c.data()[i]; yield y; }
            case Unary u -> unary(u.fn(), in[0]);
            case Binary b -> binary(b.fn(), in[0], n.input(0).shape(), in[1], n.input(1).shape(), out);
            case Where w -> where(in[0], n.input(0).shape(), in[1], n.input(1).shape(), in[2], n.input(2).shape(), out);
            case Reduce r -> reduce(r, in[0], n.input(0).shape());
            case View r -> in[0].clone();
            case Transpose t -> transpose(t, in[0], n.input(0).shape(), out);
            case Broadcast b -> broadcast(in[0], n.input(0).shape(), out);
            case Slice s -> slice(s, in[0], n.input(0).shape(), out);
            case Concat c -> concat(c, in, n.inputs(), out);
            case Pad p -> pad(p, in[0], n.input(0).shape(), out);
            case MatMul m -> matmul(m, in[0], n.input(0).shape(), in[1], n.input(1).shape(), out);
            case Linear l -> {
                double[] y = matmul(new MatMul(l.transposeA(), l.transposeB()), in[0], n.input(0).shape(), in[1], n.input(1).shape(), out);
                Epilogue e = l.epilogue();
                int cols = out.dim(-1);
                for (int i = 0; i < y.length; i++) y[i] = e.apply(y[i], in[2][i % cols]);
                yield y;
            }
            case Conv2d c -> {
                double[] y = new double[out.size()];
                SpatialReference.convolve(c.geometry(n.input(0).shape(), n.input(1).shape()), SpatialReference.Role.FORWARD, in[0], in[1], y);
                yield y;
            }
            case ConvBias c -> {
                double[] y = new double[out.size()];
                SpatialReference.convolve(c.geometry(n.input(0).shape(), n.input(1).shape()), SpatialReference.Role.FORWARD, in[0], in[1], y);
                Epilogue e = c.epilogue();
                int channels = out.dim(-1);
                for (int i = 0; i < y.length; i++) y[i] = e.apply(y[i], in[2][i % channels]);
                yield y;
            }
            case Conv2dBackwardData c -> {
                double[] dx = new double[out.size()];
                SpatialReference.convolve(c.geometry(n.input(1).shape()), SpatialReference.Role.DATA, dx, in[1], in[0]);
                yield dx;
            }
            case Conv2dBackwardFilter c -> {
                double[] dw = new double[out.size()];
                SpatialReference.convolve(c.geometry(n.input(0).shape()), SpatialReference.Role.FILTER, in[0], dw, in[1]);
                yield dw;
            }
            case Pool2d p -> SpatialReference.pool(p, in[0], n.input(0).shape());
            case Pool2dGrad p -> SpatialReference.poolGrad(p.pool(), in[0], n.input(0).shape(), in[1]);
            case BatchNorm b -> batchNorm(b, in[0], in[1], in[2], in[3], in[4], out);
            case BatchNormGrad b -> batchNormGrad(b, in[0], in[1], in[2], in[3], in[4], out);
            case InvertedDropout d -> dropout(d, in[0], in[1]);
            case Softmax s -> softmax(s.log(), in[0], out);
            case SoftmaxCrossEntropy s -> softmaxCrossEntropy(in[0], in[1], n.input(0).shape());
            case OneHot o -> oneHot(o, in[0], n);
            // effects have no value: they update the variable state
            case SgdUpdate s -> { sgdUpdate(s, n, in); yield null; }
            case AdamUpdate a -> { adamUpdate(a, n, in); yield null; }
            case Assign a -> { variables.put(variableOf(n, 0), in[1].clone()); yield null; }
            case Fused f -> fused(f, in, n.inputs());
        };
    }

    private void sgdUpdate(SgdUpdate s, Node n, double[][] in) {
        if (s.conditional() && in[4][0] == 0) return;
        double[] p = in[0].clone(), vel = in[2].clone();
        s.apply(p, in[1], vel, in[3][0]);
        if (s.momentum() != 0) variables.put(variableOf(n, 2), vel);
        variables.put(variableOf(n, 0), p);
    }

    private void adamUpdate(AdamUpdate a, Node n, double[][] in) {
        if (a.conditional() && in[6][0] == 0) return;
        double[] p = in[0].clone(), m = in[2].clone(), v = in[3].clone();
        a.apply(p, in[1], m, v, in[4][0], in[5][0]);
        variables.put(variableOf(n, 0), p);
        variables.put(variableOf(n, 2), m);
        variables.put(variableOf(n, 3), v);
    }

    /** The variable an update writes through input {@code k}, which must read a Param. */
    private static Variable variableOf(Node update, int k) {
        Node in = update.input(k);
        if (in.op() instanceof Param p) return p.variable();
        throw new IllegalArgumentException(update.op().name() + " updates its input " + k + " in place, which must be a param, but it is " + in.describe());
    }
}
