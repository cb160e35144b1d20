package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;

import java.util.Map;

import static dev.kiln.graph.Ops.reshape;

/** Reshapes each example: {@code Reshape.to(28, 28, 1)}. */
public final class Reshape extends AbstractLayer<Reshape> {
    private final Shape target;

    private Reshape(Shape target) { this.target = target; }

    public static Reshape to(int... dims) { return new Reshape(Shape.of(dims)); }

    @Override public String type() { return "Reshape"; }

    @Override public Shape outputShape(Shape input) {
        if (input.size() != target.size()) throw shapeError(target.size() + " values to reshape to " + target, input);
        return target;
    }

    @Override public Node call(Node x, CallContext ctx) {
        int[] d = new int[target.rank() + 1];
        d[0] = x.shape().dim(0);
        for (int i = 0; i < target.rank(); i++) d[i + 1] = target.dim(i);
        return reshape(x, Shape.of(d));
    }

    @Override public Map<String, Object> config() { return Map.of("target_shape", target.toList()); }

    static Reshape fromConfig(Map<String, Object> c) { return new Reshape(Shape.of(LayerConfig.integers(c, "target_shape", -1))); }
}
