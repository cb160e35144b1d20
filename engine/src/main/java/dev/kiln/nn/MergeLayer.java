package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/** A layer of several inputs (functional models): {@link Concatenate}, {@link Add}. */
public interface MergeLayer extends Layer {
    Shape outputShape(List<Shape> inputs);

    Node call(List<Node> inputs, CallContext ctx);

    default Symbol apply(Symbol... inputs) {
        List<Shape> shapes = new ArrayList<>();
        for (Symbol s : inputs) shapes.add(s.shape());
        return new Symbol(this, List.of(inputs), outputShape(shapes), null);
    }

    @Override default Shape outputShape(Shape input) { return outputShape(List.of(input)); }

    @Override default Node call(Node x, CallContext ctx) { return call(List.of(x), ctx); }
}
