package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.tensor.Shape;

import java.util.List;
import java.util.Map;

/** Sums its inputs, which must share a shape (residual connections). */
public final class Add extends AbstractLayer<Add> implements MergeLayer {
    private Add() {}

    public static Add of() { return new Add(); }

    @Override public String type() { return "Add"; }

    @Override public Shape outputShape(List<Shape> inputs) {
        for (Shape s : inputs) if (!s.equals(inputs.get(0))) throw shapeError("inputs of one shape " + inputs.get(0), s);
        return inputs.get(0);
    }

    @Override public Node call(List<Node> inputs, CallContext ctx) {
        Node sum = inputs.get(0);
        for (int i = 1; i < inputs.size(); i++) sum = Ops.add(sum, inputs.get(i));
        return sum;
    }

    @Override public Map<String, Object> config() { return Map.of(); }

    static Add fromConfig(Map<String, Object> c) { return new Add(); }
}
