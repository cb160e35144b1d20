package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.tensor.Shape;

import java.util.List;
import java.util.Map;

/** Joins its inputs along the last axis (functional models). */
public final class Concatenate extends AbstractLayer<Concatenate> implements MergeLayer {
    private Concatenate() {}

    public static Concatenate of() { return new Concatenate(); }

    @Override public String type() { return "Concatenate"; }

    @Override public Shape outputShape(List<Shape> inputs) {
        Shape first = inputs.get(0);
        int total = 0;
        for (Shape s : inputs) {
            if (s.rank() != first.rank()) throw shapeError("inputs of equal rank, first " + first, s);
            for (int i = 0; i < s.rank() - 1; i++) if (s.dim(i) != first.dim(i)) throw shapeError("inputs equal on all but the last axis, first " + first, s);
            total += s.dim(-1);
        }
        return first.withDim(-1, total);
    }

    @Override public Node call(List<Node> inputs, CallContext ctx) { return Ops.concat(inputs.get(0).shape().rank() - 1, inputs); }

    @Override public Map<String, Object> config() { return Map.of(); }

    static Concatenate fromConfig(Map<String, Object> c) { return new Concatenate(); }
}
