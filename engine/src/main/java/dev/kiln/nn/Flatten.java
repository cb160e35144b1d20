package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;

import java.util.Map;

import static dev.kiln.graph.Ops.reshape;

/** Flattens each example to one axis: [H, W, C] → [H·W·C]. Free (a view). */
public final class Flatten extends AbstractLayer<Flatten> {
    private Flatten() {}

    public static Flatten of() { return new Flatten(); }

    @Override public String type() { return "Flatten"; }

    @Override public Shape outputShape(Shape input) { return Shape.of(input.size()); }

    @Override public Node call(Node x, CallContext ctx) { return reshape(x, Shape.of(x.shape().dim(0), x.shape().size() / x.shape().dim(0))); }

    @Override public Map<String, Object> config() { return Map.of(); }

    static Flatten fromConfig(Map<String, Object> c) { return new Flatten(); }
}
