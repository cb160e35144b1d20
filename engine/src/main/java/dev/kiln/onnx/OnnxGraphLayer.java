package dev.kiln.onnx;

import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;
import dev.kiln.nn.AbstractLayer;
import dev.kiln.nn.BuildContext;
import dev.kiln.nn.CallContext;
import dev.kiln.nn.Initializer;
import dev.kiln.tensor.Shape;

import java.util.HashMap;
import java.util.Map;

/**
 * A whole imported ONNX graph as one layer: its weights are the file's initializers (in Kiln's layouts, not
 * trainable), its call is the graph traced into Kiln ops ({@link OnnxTracer}). Made by {@link Onnx#load}.
 */
public final class OnnxGraphLayer extends AbstractLayer<OnnxGraphLayer> {
    private final OnnxTracer tracer;
    private final String source;
    private final Map<String, Variable> vars = new HashMap<>();

    OnnxGraphLayer(OnnxTracer tracer, String source) {
        this.tracer = tracer;
        this.source = source;
    }

    @Override public String type() { return "OnnxGraph"; }

    @Override protected String defaultName() { return "onnx_graph"; }

    @Override public Shape outputShape(Shape input) {
        Node y = tracer.trace(Ops.input("x", batched(input)), (key, shape, data) -> Ops.full(shape, 0));
        return perExample(y.shape());
    }

    @Override protected void createWeights(Shape input, BuildContext ctx) {
        tracer.trace(Ops.input("x", batched(input)), (key, shape, data) -> {
            Variable v = addWeight(ctx, key, shape, Initializer.ZEROS, false);
            v.assign(data);
            vars.put(key, v);
            return Ops.param(v);
        });
    }

    @Override public Node call(Node x, CallContext ctx) {
        return tracer.trace(x, (key, shape, data) -> ctx.read(vars.get(key)));
    }

    /** Not saved as a Kiln model file: the .onnx file is the model's file. */
    @Override public Map<String, Object> config() {
        throw new UnsupportedOperationException("layer '" + name() + "' is the ONNX graph of " + source
                + "; a Kiln model file cannot hold it: keep the .onnx file and load it again with Onnx.load");
    }

    private static Shape batched(Shape perExample) {
        int[] d = new int[perExample.rank() + 1];
        d[0] = 1;
        for (int i = 0; i < perExample.rank(); i++) d[i + 1] = perExample.dim(i);
        return Shape.of(d);
    }

    private static Shape perExample(Shape batched) {
        int[] d = new int[batched.rank() - 1];
        for (int i = 0; i < d.length; i++) d[i] = batched.dim(i + 1);
        return Shape.of(d);
    }
}
