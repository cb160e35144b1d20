package dev.kiln.eager;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.Effect;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * An eager f32 tensor: a value plus the graph node that made it. Each op runs at once through the
 * same op catalogue and backend kernels as compiled programs, one kernel per op (no fusion, no
 * arena). {@link #gradients} differentiates the recorded graph with the same {@link Autodiff}
 * and evaluates it eagerly; leaves hold the data, so nothing else is kept between steps. Ops run on
 * {@link Eager#backend()}: {@link dev.kiln.backend.Backend#auto()} unless chosen with {@link Eager#use}.
 *
 * <p>This package sits above the graph, autodiff and backend packages it uses; {@code dev.kiln.tensor}
 * below them keeps only {@code Shape} and {@code DType}.
 *
 * <pre>{@code
 * Tensor a = Tensor.of(Shape.of(2, 2), 1, 2, 3, 4);
 * Tensor y = a.matmul(a).relu().sum();
 * }</pre>
 */
public final class Tensor {
    private final Node node;
    private final float[] data;

    private Tensor(Node node, float[] data) {
        this.node = node;
        this.data = data;
    }

    public static Tensor of(Shape shape, float... values) {
        float[] copy = values.clone();
        return new Tensor(Ops.constant(shape, copy), copy);
    }

    public static Tensor scalar(double v) { return of(Shape.SCALAR, (float) v); }

    /** A live view of a variable: reads see its current value; gradients flow to it. */
    public static Tensor of(Variable v) { return new Tensor(Ops.param(v), v.value()); }

    public Node node() { return node; }
    public Shape shape() { return node.shape(); }
    /** A copy of the values. */
    public float[] toArray() { return data.clone(); }
    public float item() {
        if (data.length != 1) throw new IllegalStateException("item() needs a single value, tensor has shape " + shape());
        return data[0];
    }

    /** Applies a graph op to eager tensors: {@code Tensor.apply(Ops::matmul, a, b)}-style helpers below use it. */
    public static Tensor apply(Node node, Tensor... inputs) {
        float[][] in = new float[inputs.length][];
        for (int i = 0; i < inputs.length; i++) in[i] = inputs[i].data;
        float[] out = node.op() instanceof Effect ? null : new float[node.shape().size()];
        Eager.backend().evaluate(node, in, out);
        return new Tensor(node, out);
    }

    private Tensor un(Function<Node, Node> f) { return apply(f.apply(node), this); }

    public Tensor add(Tensor o) { return apply(Ops.add(node, o.node), this, o); }
    public Tensor sub(Tensor o) { return apply(Ops.sub(node, o.node), this, o); }
    public Tensor mul(Tensor o) { return apply(Ops.mul(node, o.node), this, o); }
    public Tensor div(Tensor o) { return apply(Ops.div(node, o.node), this, o); }
    public Tensor matmul(Tensor o) { return apply(Ops.matmul(node, o.node), this, o); }
    public Tensor relu() { return un(Ops::relu); }
    public Tensor sigmoid() { return un(Ops::sigmoid); }
    public Tensor tanh() { return un(Ops::tanh); }
    public Tensor exp() { return un(Ops::exp); }
    public Tensor log() { return un(Ops::log); }
    public Tensor neg() { return un(Ops::neg); }
    public Tensor abs() { return un(Ops::abs); }
    public Tensor square() { return apply(Ops.square(node), this, this); }
    public Tensor softmax() { return un(Ops::softmax); }
    public Tensor sum() { return un(Ops::sumAll); }
    public Tensor mean() { return un(Ops::meanAll); }
    public Tensor reshape(Shape to) { return apply(Ops.reshape(node, to), this); }

    /** d this / d each of {@code wrt}, evaluated eagerly; {@code this} must be a scalar. */
    public List<Tensor> gradients(List<Tensor> wrt) {
        List<Node> wrtNodes = new ArrayList<>();
        for (Tensor t : wrt) wrtNodes.add(t.node);
        List<Node> grads = Autodiff.gradients(node, wrtNodes);
        Map<Node, float[]> values = Eager.evaluate(new Graph(grads, List.of()));
        List<Tensor> out = new ArrayList<>();
        for (Node g : grads) out.add(new Tensor(g, values.get(g)));
        return out;
    }

    /** Above this many values a tensor prints like NumPy: the first and last three along each axis, "..." between. */
    static final int SUMMARY_THRESHOLD = 1000, EDGE_ITEMS = 3;

    /**
     * NumPy-style repr: shape, dtype and the values nested by axis, e.g.
     * {@code tensor([[1, 2], [3, 4]], shape=[2, 2], dtype=float32)} (rows on their own lines).
     */
    @Override public String toString() {
        int[] dims = shape().dims();
        boolean summarise = data.length > SUMMARY_THRESHOLD;
        boolean whole = true;
        for (float v : data) if (Float.isFinite(v) && v != Math.rint(v)) { whole = false; break; }
        StringBuilder sb = new StringBuilder("tensor(");
        values(sb, dims, 0, 0, whole, summarise, "tensor(".length());
        return sb.append(", shape=").append(shape()).append(", dtype=float32)").toString();
    }

    private void values(StringBuilder sb, int[] dims, int axis, int offset, boolean whole, boolean summarise, int indent) {
        if (axis == dims.length) { sb.append(format(data[offset], whole)); return; }
        int n = dims[axis], stride = 1;
        for (int a = axis + 1; a < dims.length; a++) stride *= dims[a];
        sb.append('[');
        for (int i = 0; i < n; i++) {
            if (summarise && n > 2 * EDGE_ITEMS && i == EDGE_ITEMS) {
                sb.append(axis == dims.length - 1 ? "..., " : "...,\n" + " ".repeat(indent + axis + 1));
                i = n - EDGE_ITEMS;
            }
            values(sb, dims, axis + 1, offset + i * stride, whole, summarise, indent);
            if (i < n - 1) sb.append(axis == dims.length - 1 ? ", " : ",\n" + "\n".repeat(Math.max(0, dims.length - axis - 2)) + " ".repeat(indent + axis + 1));
        }
        sb.append(']');
    }

    private static String format(float v, boolean whole) {
        if (Float.isNaN(v)) return "nan";
        if (Float.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        if (whole) return Long.toString((long) v) + ".";
        String s = String.format(java.util.Locale.ROOT, "%.4g", v);
        if (s.contains("e")) return s;
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", ".") : s;
    }
}
