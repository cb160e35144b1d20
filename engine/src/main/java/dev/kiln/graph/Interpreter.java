package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The scalar reference meaning of every op, in double precision: plain loops that read like the
 * math, one exhaustive switch over the op catalogue (no default, so a new op does not compile until
 * it has a meaning here). Every kernel on every backend is tested against this class; it is slow
 * on purpose and allocates freely.
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
        if (n.op().isEffect()) throw new IllegalArgumentException(n.describe() + " is an in-place update with no value; run it in a Graph's effects");
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
                int cols = out.dim(-1);
                for (int i = 0; i < y.length; i++) y[i] = l.activation().apply(y[i] + in[2][i % cols]);
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
                int channels = out.dim(-1);
                for (int i = 0; i < y.length; i++) y[i] = c.activation().apply(y[i] + in[2][i % channels]);
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
        double[] p = in[0].clone(), vel = in[2].clone();
        s.apply(p, in[1], vel, in[3][0]);
        if (s.momentum() != 0) variables.put(variableOf(n, 2), vel);
        variables.put(variableOf(n, 0), p);
    }

    private void adamUpdate(AdamUpdate a, Node n, double[][] in) {
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

    // ------------------------------------------------------------------ elementwise

    private static double[] unary(UnaryFn fn, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < y.length; i++) y[i] = fn.apply(x[i]);
        return y;
    }

    private static double[] binary(BinaryFn fn, double[] a, Shape as, double[] b, Shape bs, Shape out) {
        int[] ai = broadcastIndex(as, out), bi = broadcastIndex(bs, out);
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) y[i] = fn.apply(a[ai[i]], b[bi[i]]);
        return y;
    }

    private static double[] where(double[] c, Shape cs, double[] a, Shape as, double[] b, Shape bs, Shape out) {
        int[] ci = broadcastIndex(cs, out), ai = broadcastIndex(as, out), bi = broadcastIndex(bs, out);
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) y[i] = c[ci[i]] != 0 ? a[ai[i]] : b[bi[i]];
        return y;
    }

    /** For each element of {@code out} (row-major), the element of {@code in} it reads under NumPy broadcasting. */
    static int[] broadcastIndex(Shape in, Shape out) {
        int rank = out.rank(), lead = rank - in.rank();
        int[] inStride = new int[rank];
        int[] s = in.strides();
        for (int d = lead; d < rank; d++) inStride[d] = in.dim(d - lead) == 1 ? 0 : s[d - lead];
        int[] map = new int[out.size()];
        int[] idx = new int[rank];
        int[] dims = out.dims();
        for (int i = 0; i < map.length; i++) {
            int src = 0;
            for (int d = 0; d < rank; d++) src += idx[d] * inStride[d];
            map[i] = src;
            increment(idx, dims);
        }
        return map;
    }

    /** Advances a row-major multi-index by one. */
    private static void increment(int[] idx, int[] dims) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < dims[d]) return;
            idx[d] = 0;
        }
    }

    private static double[] fused(Fused f, double[][] operands, List<Node> inputs) {
        Shape shape = f.shape();
        List<double[]> vals = new ArrayList<>();
        for (int i = 0; i < operands.length; i++) vals.add(broadcast(operands[i], inputs.get(i).shape(), shape));
        for (Fused.Step step : f.steps()) {
            List<Integer> args = step.args();
            double[] y = new double[shape.size()];
            switch (step.op()) {
                case Unary u -> { double[] x = vals.get(args.get(0)); for (int i = 0; i < y.length; i++) y[i] = u.fn().apply(x[i]); }
                case Binary b -> {
                    double[] x0 = vals.get(args.get(0)), x1 = vals.get(args.get(1));
                    for (int i = 0; i < y.length; i++) y[i] = b.fn().apply(x0[i], x1[i]);
                }
                case Where w -> {
                    double[] c = vals.get(args.get(0)), x0 = vals.get(args.get(1)), x1 = vals.get(args.get(2));
                    for (int i = 0; i < y.length; i++) y[i] = c[i] != 0 ? x0[i] : x1[i];
                }
            }
            vals.add(y);
        }
        return vals.get(vals.size() - 1);
    }

    // ------------------------------------------------------------------ reductions and movement

    private static double[] reduce(Reduce r, double[] x, Shape xs) {
        Shape kept = r.keptShape(xs);
        double[] y = new double[kept.size()];
        if (r.fn() == ReduceFn.MAX) Arrays.fill(y, Double.NEGATIVE_INFINITY);
        // the output element of x's element i: its multi-index with the reduced axes set to 0
        int[] keptStride = kept.strides();
        for (int a : r.axes()) keptStride[a] = 0;
        int[] idx = new int[xs.rank()];
        int[] dims = xs.dims();
        for (int i = 0; i < x.length; i++) {
            int o = 0;
            for (int d = 0; d < idx.length; d++) o += idx[d] * keptStride[d];
            switch (r.fn()) {
                case SUM, MEAN -> y[o] += x[i];
                case MAX -> y[o] = Math.max(y[o], x[i]);
            }
            increment(idx, dims);
        }
        if (r.fn() == ReduceFn.MEAN) {
            int count = r.count(xs);
            for (int o = 0; o < y.length; o++) y[o] /= count;
        }
        return y;
    }

    private static double[] transpose(Transpose t, double[] x, Shape xs, Shape out) {
        int[] xStride = xs.strides();
        int[] idx = new int[out.rank()];
        int[] dims = out.dims();
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) {
            int src = 0;
            for (int d = 0; d < idx.length; d++) src += idx[d] * xStride[t.perm().get(d)]; // out axis d is in axis perm[d]
            y[i] = x[src];
            increment(idx, dims);
        }
        return y;
    }

    private static double[] broadcast(double[] x, Shape xs, Shape out) {
        int[] map = broadcastIndex(xs, out);
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) y[i] = x[map[i]];
        return y;
    }

    private static double[] slice(Slice s, double[] x, Shape xs, Shape out) {
        int[] xStride = xs.strides();
        int[] idx = new int[out.rank()];
        int[] dims = out.dims();
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) {
            int src = 0;
            for (int d = 0; d < idx.length; d++) src += (idx[d] + s.start().get(d)) * xStride[d];
            y[i] = x[src];
            increment(idx, dims);
        }
        return y;
    }

    private static double[] concat(Concat c, double[][] xs, List<Node> inputs, Shape out) {
        int axis = c.axis();
        int outer = out.sizeOf(0, axis), inner = out.sizeOf(axis + 1, out.rank()), outAxis = out.dim(axis);
        double[] y = new double[out.size()];
        int offset = 0;
        for (int k = 0; k < xs.length; k++) {
            int len = inputs.get(k).shape().dim(axis);
            for (int o = 0; o < outer; o++) {
                for (int a = 0; a < len; a++) {
                    for (int j = 0; j < inner; j++) {
                        y[(o * outAxis + offset + a) * inner + j] = xs[k][(o * len + a) * inner + j];
                    }
                }
            }
            offset += len;
        }
        return y;
    }

    private static double[] pad(Pad p, double[] x, Shape xs, Shape out) {
        double[] y = new double[out.size()];
        Arrays.fill(y, p.value());
        int[] yStride = out.strides();
        int[] idx = new int[xs.rank()];
        int[] dims = xs.dims();
        for (int i = 0; i < x.length; i++) {
            int dst = 0;
            for (int d = 0; d < idx.length; d++) dst += (idx[d] + p.before().get(d)) * yStride[d];
            y[dst] = x[i];
            increment(idx, dims);
        }
        return y;
    }

    // ------------------------------------------------------------------ linear algebra

    private static double[] matmul(MatMul mm, double[] a, Shape as, double[] b, Shape bs, Shape out) {
        int m = out.dim(-2), n = out.dim(-1);
        int k = mm.transposeA() ? as.dim(-2) : as.dim(-1);
        Shape batch = MatMul.batchOf(out);
        int[] aBatch = broadcastIndex(MatMul.batchOf(as), batch), bBatch = broadcastIndex(MatMul.batchOf(bs), batch);
        double[] c = new double[out.size()];
        for (int t = 0; t < batch.size(); t++) {
            int aOff = aBatch[t] * m * k, bOff = bBatch[t] * k * n, cOff = t * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        double aip = mm.transposeA() ? a[aOff + p * m + i] : a[aOff + i * k + p]; // A [M,K] or Aᵀ stored [K,M]
                        double bpj = mm.transposeB() ? b[bOff + j * k + p] : b[bOff + p * n + j]; // B [K,N] or Bᵀ stored [N,K]
                        acc += aip * bpj;
                    }
                    c[cOff + i * n + j] = acc;
                }
            }
        }
        return c;
    }

    // ------------------------------------------------------------------ normalisation, dropout, softmax

    private static double[] batchNorm(BatchNorm b, double[] x, double[] mean, double[] var, double[] gamma, double[] beta, Shape out) {
        int channels = out.dim(-1);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = i % channels; // channel is the last axis
            y[i] = (x[i] - mean[c]) / Math.sqrt(var[c] + b.epsilon()) * gamma[c] + beta[c];
        }
        return y;
    }

    private static double[] dropout(InvertedDropout d, double[] x, double[] step) {
        long t = (long) step[0];
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Philox.keep(d.seed(), t, i, d.rate()) ? x[i] / (1 - d.rate()) : 0;
        return y;
    }

    private static double[] softmax(boolean log, double[] x, Shape out) {
        int classes = out.dim(-1);
        double[] y = new double[x.length];
        for (int row = 0; row < x.length; row += classes) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, x[row + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(x[row + c] - max);
            for (int c = 0; c < classes; c++) {
                double z = x[row + c] - max;
                y[row + c] = log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        }
        return y;
    }

    private static double[] softmaxCrossEntropy(double[] logits, double[] labels, Shape zs) {
        int classes = zs.dim(-1);
        double[] logp = softmax(true, logits, zs);
        double[] y = new double[logits.length / classes];
        for (int r = 0; r < y.length; r++) {
            double loss = 0;
            for (int c = 0; c < classes; c++) loss -= labels[r * classes + c] * logp[r * classes + c];
            y[r] = loss;
        }
        return y;
    }

    private static double[] oneHot(OneHot o, double[] indices, Node n) {
        int depth = o.depth();
        double[] y = new double[indices.length * depth];
        for (int i = 0; i < indices.length; i++) {
            double v = indices[i];
            if (v != Math.rint(v) || v < 0 || v >= depth) {
                throw new IllegalArgumentException("one_hot: value " + v + " at position " + i + " is not a whole number in [0, " + depth + ") (" + n.describe() + ")");
            }
            y[i * depth + (int) v] = 1;
        }
        return y;
    }
}
