package dev.kiln.onnx;

import dev.kiln.io.OnnxFile;
import dev.kiln.io.OnnxFile.OpNode;
import dev.kiln.io.OnnxFile.ValueInfo;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Symbol;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * ONNX models for inference: {@code Onnx.load(file)} reads a {@code .onnx} file ({@link OnnxFile}) and gives a
 * built {@link Model} of one input and one output, ready for {@code predict} and {@code dev.kiln.serve.Predictor}.
 *
 * <p>The model's input is ONNX's, per example: an NCHW image model exported from PyTorch takes rows of C·H·W
 * values in PyTorch's order, and answers in ONNX's output layout. The first dimension of the ONNX input is the batch
 * (fixed or named at export: Kiln runs any batch); the others must be fixed. Ops mapped: {@link #SUPPORTED_OPS}.
 * A file with any other op fails before anything is built, naming every unsupported op and its node.
 *
 * <pre>{@code
 * Model m = Onnx.load(Path.of("mlp.onnx"));
 * try (Predictor p = Predictor.of(m)) { float[] y = p.predict(x); }
 * }</pre>
 */
public final class Onnx {
    /** The ONNX ops Kiln maps onto its graph, in the default domain (opsets 7 and later). */
    public static final Set<String> SUPPORTED_OPS = Set.of("Gemm", "MatMul", "Add", "Mul", "Relu", "Sigmoid", "Tanh", "Softmax",
            "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Flatten", "Reshape", "Dropout", "Concat",
            "Identity", "Constant");

    private Onnx() {}

    /** The model of the ONNX file {@code file}; every error names the file (and the node, where there is one). */
    public static Model load(Path file) throws IOException {
        return of(OnnxFile.read(file), file.toString());
    }

    /** The model of an ONNX model already read; {@code source} names it in errors. */
    public static Model of(OnnxFile.ModelDef model, String source) {
        OnnxFile.GraphDef g = model.graph();
        List<String> unsupported = new ArrayList<>();
        for (OpNode n : g.nodes()) {
            boolean defaultDomain = n.domain().isEmpty() || n.domain().equals("ai.onnx");
            if (!defaultDomain || !SUPPORTED_OPS.contains(n.opType())) {
                unsupported.add((defaultDomain ? "" : n.domain() + ".") + n.opType() + " (node '" + n.name() + "')");
            }
        }
        if (!unsupported.isEmpty()) {
            throw new IllegalArgumentException(source + ": " + unsupported.size() + " unsupported ONNX op" + (unsupported.size() == 1 ? "" : "s") + ": "
                    + String.join(", ", unsupported) + "; Kiln imports " + String.join(", ", new java.util.TreeSet<>(SUPPORTED_OPS)));
        }
        List<ValueInfo> inputs = new ArrayList<>();
        for (ValueInfo v : g.inputs()) if (!g.initializers().containsKey(v.name())) inputs.add(v);
        if (inputs.size() != 1 || g.outputs().size() != 1) {
            throw new IllegalArgumentException(source + ": the graph has " + inputs.size() + " inputs and " + g.outputs().size()
                    + " outputs; Kiln imports models of one input and one output");
        }
        ValueInfo in = inputs.get(0);
        if (in.elemType() != OnnxFile.FLOAT) throw new IllegalArgumentException(source + ": input '" + in.name() + "' has ONNX element type " + in.elemType() + "; Kiln imports FLOAT (1) inputs");
        if (in.dims().length < 2) throw new IllegalArgumentException(source + ": input '" + in.name() + "' has rank " + in.dims().length + "; Kiln needs a batch axis and at least one more");
        int[] perExample = new int[in.dims().length - 1];
        for (int i = 0; i < perExample.length; i++) {
            long d = in.dims()[i + 1];
            if (d <= 0 || d > Integer.MAX_VALUE) throw new IllegalArgumentException(source + ": input '" + in.name() + "' has a named or unknown dimension " + (i + 1)
                    + "; Kiln needs every dimension but the batch fixed (export with a fixed input size)");
            perExample[i] = (int) d;
        }
        Symbol x = Input.named(in.name(), perExample);
        OnnxGraphLayer layer = new OnnxGraphLayer(new OnnxTracer(model, source, in.name()), source);
        try {
            return Model.of(x, layer.apply(x)).build();
        } catch (IllegalArgumentException | ArithmeticException e) {
            String m = String.valueOf(e.getMessage());
            throw new IllegalArgumentException(m.startsWith(source) ? m : source + ": the graph does not fit together in Kiln: " + m, e);
        }
    }
}
