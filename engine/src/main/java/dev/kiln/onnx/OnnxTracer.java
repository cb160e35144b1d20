package dev.kiln.onnx;

import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;
import dev.kiln.io.OnnxFile;
import dev.kiln.io.OnnxFile.OpNode;
import dev.kiln.io.OnnxFile.TensorData;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.kiln.graph.Ops.*;

/**
 * Traces an ONNX graph into Kiln graph ops, node by node. ONNX images are NCHW, Kiln's NHWC: a 4-D value is kept
 * in whichever layout its producer gave, and converted (one transpose) only where an op needs the other: Conv and
 * the pools take NHWC, Flatten and Reshape read NCHW order. Weights are permuted once, when read from the file
 * (convolution kernels OIHW to HWIO, per-channel constants of an NHWC operand to channels last), and reach the graph
 * through {@link Weights}, so the same trace serves shape inference, weight creation and the programs.
 */
final class OnnxTracer {
    /** Hands the trace a graph node for a weight; {@code key} is the same for the same weight in every trace. */
    interface Weights { Node weight(String key, Shape shape, float[] data); }

    /** A value of the graph: a node (with its layout) or a constant still in the file's form. */
    private record Value(Node node, boolean nhwc, TensorData constant) {
        static Value of(Node n, boolean nhwc) { return new Value(n, nhwc, null); }
        boolean isConstant() { return constant != null; }
    }

    private final OnnxFile.ModelDef model;
    private final String source, inputName;
    private Map<String, Value> env;
    private Weights weights;
    private int keys;

    OnnxTracer(OnnxFile.ModelDef model, String source, String inputName) {
        this.model = model;
        this.source = source;
        this.inputName = inputName;
    }

    /** The graph's output for input {@code x} ([batch, ONNX's per-example dims]), in ONNX's layout. */
    synchronized Node trace(Node x, Weights w) {
        env = new HashMap<>();
        weights = w;
        keys = 0;
        for (TensorData t : model.graph().initializers().values()) env.put(t.name(), new Value(null, false, t));
        env.put(inputName, Value.of(x, false));
        for (OpNode n : model.graph().nodes()) {
            Node y = apply(n);
            if (y != null) env.put(n.outputs().get(0), Value.of(y, false));
        }
        String out = model.graph().outputs().get(0).name();
        Value v = env.get(out);
        if (v == null) throw new IllegalArgumentException(source + ": the graph's output '" + out + "' is computed by no node");
        Node y = nchw(dynamic(v, "output"));
        env = null;
        weights = null;
        return y;
    }

    /** Maps one node; returns its output in ONNX's layout, or null when the mapping recorded the output itself ({@link #put}). */
    private Node apply(OpNode n) {
        Value a = n.opType().equals("Constant") ? null : in(n, 0);
        if (n.outputs().isEmpty()) throw unsupported(n, "a node without outputs");
        return switch (n.opType()) {
            case "Identity", "Dropout" -> { env.put(n.outputs().get(0), a); yield null; }
            case "Relu", "Sigmoid", "Tanh" -> {
                Value x = dynamic(a, n.name());
                Node v = x.node();
                yield put(n, n.opType().equals("Relu") ? relu(v) : n.opType().equals("Sigmoid") ? sigmoid(v) : tanh(v), x.nhwc());
            }
            case "Add", "Mul" -> binary(n, a, in(n, 1));
            case "Gemm" -> gemm(n, a);
            case "MatMul" -> matmul(nchw(dynamic(a, n.name())), dynamic(in(n, 1), n.name()).node());
            case "Conv" -> conv(n, a);
            case "MaxPool", "AveragePool" -> pool(n, a);
            case "GlobalAveragePool" -> put(n, mean(nhwc(n, a), List.of(1, 2), true), true);
            case "BatchNormalization" -> batchNormalization(n, a);
            case "Flatten" -> flatten(n, a);
            case "Reshape" -> reshape(n, a);
            case "Softmax" -> softmax(n, a);
            case "Concat" -> concat(n);
            case "Constant" -> {
                OnnxFile.Attr v = n.attributes().get("value");
                if (v == null || v.t() == null) throw unsupported(n, "a Constant without a 'value' tensor");
                env.put(n.outputs().get(0), new Value(null, false, v.t()));
                yield null;
            }
            default -> throw unsupported(n, "this op");
        };
    }

    private Value in(OpNode n, int i) {
        if (i >= n.inputs().size() || n.inputs().get(i).isEmpty()) throw unsupported(n, "a missing input " + i);
        Value v = env.get(n.inputs().get(i));
        if (v == null) throw new IllegalArgumentException(source + ": node '" + n.name() + "' (" + n.opType() + ") reads '" + n.inputs().get(i)
                + "', which no earlier node, input or initializer defines");
        return v;
    }

    /** The value as a node: a constant becomes a weight in ONNX's layout. */
    private Value dynamic(Value v, String what) {
        if (!v.isConstant()) return v;
        return Value.of(weight(v.constant(), floats(v.constant(), what)), false);
    }

    private Node weight(TensorData t, float[] data) {
        int[] d = new int[t.dims().length];
        for (int i = 0; i < d.length; i++) d[i] = Math.toIntExact(t.dims()[i]);
        return weights.weight("w" + keys++ + "_" + t.name().replaceAll("[^A-Za-z0-9_.]", "_"), Shape.of(d), data);
    }

    private float[] floats(TensorData t, String who) {
        if (t.floats() == null) throw new IllegalArgumentException(source + ": tensor '" + t.name() + "' read by " + who + " has ONNX data type "
                + t.dataType() + "; Kiln imports FLOAT (1) weights");
        return t.floats();
    }

    private static Node nchw(Value v) { return v.nhwc() ? transpose(v.node(), List.of(0, 3, 1, 2)) : v.node(); }

    private Node nhwc(OpNode n, Value v) {
        Value d = dynamic(v, n.name());
        if (d.node().shape().rank() != 4) throw unsupported(n, "an input of rank " + d.node().shape().rank() + " (Kiln's " + n.opType() + " takes 4-D NCHW images)");
        return d.nhwc() ? d.node() : transpose(d.node(), List.of(0, 2, 3, 1));
    }

    private Node put(OpNode n, Node y, boolean nhwc) {
        env.put(n.outputs().get(0), Value.of(y, nhwc));
        return null;
    }

    private Node binary(OpNode n, Value a, Value b) {
        boolean add = n.opType().equals("Add");
        if (a.isConstant() && !b.isConstant()) { Value t = a; a = b; b = t; }
        Value da = dynamic(a, n.name());
        boolean nhwc = da.nhwc();
        Node x = da.node(), c;
        if (b.isConstant()) {
            c = nhwc ? channelsLast(n, b.constant()) : weight(b.constant(), floats(b.constant(), "node '" + n.name() + "'"));
        } else if (b.nhwc() != nhwc) {
            x = nchw(da);
            c = nchw(b);
            nhwc = false;
        } else {
            c = b.node();
        }
        return put(n, add ? add(x, c) : mul(x, c), nhwc);
    }

    /** A constant operand of an NHWC value: its dims, padded to rank 4 as NumPy broadcasting does, moved channels last. */
    private Node channelsLast(OpNode n, TensorData t) {
        float[] src = floats(t, "node '" + n.name() + "'");
        if (t.dims().length > 4) throw unsupported(n, "a constant of rank " + t.dims().length + " beside a 4-D image");
        int[] d = {1, 1, 1, 1};
        for (int i = 0; i < t.dims().length; i++) d[4 - t.dims().length + i] = Math.toIntExact(t.dims()[i]);
        float[] dst = new float[src.length];
        int nN = d[0], nC = d[1], nH = d[2], nW = d[3];
        for (int i = 0; i < nN; i++) for (int c = 0; c < nC; c++) for (int h = 0; h < nH; h++) for (int w = 0; w < nW; w++) {
            dst[((i * nH + h) * nW + w) * nC + c] = src[((i * nC + c) * nH + h) * nW + w];
        }
        return weights.weight("w" + keys++ + "_" + t.name().replaceAll("[^A-Za-z0-9_.]", "_"), Shape.of(nN, nH, nW, nC), dst);
    }

    private Node gemm(OpNode n, Value a) {
        Node x = nchw(dynamic(a, n.name()));
        Node w = dynamic(in(n, 1), n.name()).node();
        Node y = matmul(x, w, n.integer("transA", 0) != 0, n.integer("transB", 0) != 0);
        float alpha = n.real("alpha", 1f), beta = n.real("beta", 1f);
        if (alpha != 1f) y = mul(y, scalar(alpha));
        if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
            Node c = dynamic(in(n, 2), n.name()).node();
            y = add(y, beta == 1f ? c : mul(c, scalar(beta)));
        }
        return y;
    }

    private Node conv(OpNode n, Value a) {
        Value wv = in(n, 1);
        if (!wv.isConstant() || wv.constant().dims().length != 4) throw unsupported(n, "a kernel that is not a 4-D initializer (Kiln's Conv is 2-D, with weights from the file)");
        TensorData w = wv.constant();
        float[] src = floats(w, "Conv node '" + n.name() + "'");
        int o = (int) w.dims()[0], i = (int) w.dims()[1], kh = (int) w.dims()[2], kw = (int) w.dims()[3];
        float[] hwio = new float[src.length];
        for (int f = 0; f < o; f++) for (int c = 0; c < i; c++) for (int y = 0; y < kh; y++) for (int x = 0; x < kw; x++) {
            hwio[((y * kw + x) * i + c) * o + f] = src[((f * i + c) * kh + y) * kw + x];
        }
        Node kernel = weights.weight("w" + keys++ + "_" + w.name().replaceAll("[^A-Za-z0-9_.]", "_"), Shape.of(kh, kw, i, o), hwio);
        int[] s = pair(n, "strides"), d = pair(n, "dilations");
        Node y = conv2d(nhwc(n, a), kernel, new Conv2d(s[0], s[1], padding(n), d[0], d[1], Math.toIntExact(n.integer("group", 1))));
        if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) y = add(y, dynamic(in(n, 2), n.name()).node());
        return put(n, y, true);
    }

    private Padding padding(OpNode n) {
        String auto = n.string("auto_pad", "NOTSET");
        return switch (auto) {
            case "NOTSET" -> {
                long[] p = n.integers("pads", new long[] {0, 0, 0, 0});
                if (p.length != 4) throw unsupported(n, "pads of " + p.length + " values (Kiln pools and convolves 2-D images: 4 values)");
                for (long v : p) if (v < 0 || v > 1 << 16) throw unsupported(n, "pads " + java.util.Arrays.toString(p));
                yield Padding.explicit((int) p[0], (int) p[2], (int) p[1], (int) p[3]);
            }
            case "VALID" -> Padding.VALID;
            case "SAME_UPPER" -> Padding.SAME;
            default -> throw unsupported(n, "auto_pad " + auto);
        };
    }

    private Node pool(OpNode n, Value a) {
        if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) throw unsupported(n, "the indices output of MaxPool");
        if (n.integer("ceil_mode", 0) != 0) throw unsupported(n, "ceil_mode=1 (export with ceil_mode=False)");
        for (int d : pair(n, "dilations")) if (d != 1) throw unsupported(n, "pooling dilations other than 1");
        if (n.integers("kernel_shape", null) == null) throw unsupported(n, "a pool without kernel_shape");
        int[] k = pair(n, "kernel_shape"), s = pair(n, "strides");
        Padding p = padding(n);
        boolean avg = n.opType().equals("AveragePool");
        if (avg && n.integer("count_include_pad", 0) != 0 && p.top() + p.bottom() + p.left() + p.right() > 0) {
            throw unsupported(n, "count_include_pad=1 with padding (Kiln averages the in-bounds values only)");
        }
        Pool2d op = new Pool2d(avg ? Pool2d.Kind.AVG : Pool2d.Kind.MAX, k[0], k[1], s[0], s[1], p);
        return put(n, pool2d(nhwc(n, a), op), true);
    }

    private Node batchNormalization(OpNode n, Value a) {
        if (n.integer("training_mode", 0) != 0) throw unsupported(n, "training_mode=1 (export the model in eval mode)");
        Value x = dynamic(a, n.name());
        Node xs = x.node().shape().rank() == 4 ? nhwc(n, x) : x.node();
        if (xs.shape().rank() != 2 && xs.shape().rank() != 4) throw unsupported(n, "an input of rank " + xs.shape().rank() + " (Kiln normalises [N, C] and [N, C, H, W])");
        Node[] p = new Node[4];
        for (int i = 0; i < 4; i++) p[i] = dynamic(in(n, i + 1), n.name()).node();
        return put(n, batchNorm(xs, p[2], p[3], p[0], p[1], n.real("epsilon", 1e-5f)), xs.shape().rank() == 4);
    }

    private Node flatten(OpNode n, Value a) {
        long axis = n.integer("axis", 1);
        if (axis != 1) throw unsupported(n, "axis " + axis + " (Kiln keeps the batch axis: axis=1)");
        return Ops.flatten(nchw(dynamic(a, n.name())));
    }

    private Node reshape(OpNode n, Value a) {
        Value sv = in(n, 1);
        if (!sv.isConstant() || sv.constant().longs() == null) throw unsupported(n, "a shape that is not a constant INT64 tensor");
        Node x = nchw(dynamic(a, n.name()));
        long[] want = sv.constant().longs();
        int batch = x.shape().dim(0), per = x.shape().size() / batch;
        int[] d = new int[want.length];
        int infer = -1, known = 1;
        for (int i = 1; i < want.length; i++) {
            long w = want[i];
            if (w == 0 && n.integer("allowzero", 0) == 0) w = i < x.shape().rank() ? x.shape().dim(i) : 0;
            if (w == -1) { if (infer >= 0) throw unsupported(n, "two -1 dimensions"); infer = i; continue; }
            if (w <= 0) throw unsupported(n, "target dimension " + want[i]);
            d[i] = (int) w;
            known *= d[i];
        }
        if (want.length == 0) throw unsupported(n, "a reshape to a scalar");
        if (infer >= 0) d[infer] = known == 0 ? 0 : per / known;
        d[0] = batch;   // the first dimension is the batch: 0, -1 or the batch the model was exported with
        Shape to = Shape.of(d);
        if (to.size() != x.shape().size()) throw unsupported(n, "a target " + java.util.Arrays.toString(want) + " that moves values across the batch axis (input " + x.shape() + ")");
        return Ops.reshape(x, to);
    }

    private Node softmax(OpNode n, Value a) {
        Value x = dynamic(a, n.name());
        int rank = x.node().shape().rank();
        long axis = n.integer("axis", model.opset() >= 13 ? -1 : 1);
        if (axis < 0) axis += rank;
        if (x.nhwc() && axis == 1) return put(n, Ops.softmax(x.node()), true);
        if (axis != rank - 1) throw unsupported(n, "axis " + axis + " of a rank-" + rank + " input (Kiln's softmax runs over the last axis)");
        return Ops.softmax(nchw(x));
    }

    private Node concat(OpNode n) {
        List<Value> vs = new ArrayList<>();
        for (int i = 0; i < n.inputs().size(); i++) {
            Value v = in(n, i);
            if (v.isConstant()) throw unsupported(n, "a constant input '" + n.inputs().get(i) + "' (Kiln concatenates computed values)");
            vs.add(v);
        }
        int rank = vs.get(0).node().shape().rank();
        long axis = n.integer("axis", 1);
        if (axis < 0) axis += rank;
        if (axis == 0) throw unsupported(n, "axis 0 (the batch axis)");
        List<Node> xs = new ArrayList<>();
        if (rank == 4 && axis == 1) {
            for (Value v : vs) xs.add(nhwc(n, v));
            return put(n, Ops.concat(3, xs), true);
        }
        for (Value v : vs) xs.add(nchw(v));
        return Ops.concat((int) axis, xs);
    }

    /** A 2-D attribute (strides, dilations, kernel_shape): 2 values from 1 to 2^16, 1 and 1 when absent. */
    private int[] pair(OpNode n, String attr) {
        long[] v = n.integers(attr, new long[] {1, 1});
        if (v.length != 2 || v[0] < 1 || v[1] < 1 || v[0] > 1 << 16 || v[1] > 1 << 16) {
            throw unsupported(n, attr + " " + java.util.Arrays.toString(v) + " (2-D: two values from 1 to 65536)");
        }
        return new int[] {(int) v[0], (int) v[1]};
    }

    private IllegalArgumentException unsupported(OpNode n, String what) {
        return new IllegalArgumentException(source + ": node '" + n.name() + "' (" + n.opType() + "): Kiln does not import " + what);
    }
}
