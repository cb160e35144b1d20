package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.graph.Ops.*;

/**
 * Reduces over {@code axes} (sorted, non-negative, distinct). With {@code keepDims} the reduced
 * axes stay as size 1. MAX sends the gradient to every maximal element, split evenly on ties.
 */
public record Reduce(ReduceFn fn, List<Integer> axes, boolean keepDims) implements Primitive {
    public Reduce {
        axes = List.copyOf(axes);
        for (int i = 1; i < axes.size(); i++) {
            if (axes.get(i) <= axes.get(i - 1)) throw new IllegalArgumentException("reduce axes must be sorted and distinct: " + axes);
        }
    }
    public String name() { return "reduce_" + fn.lowerName(); }
    public int arity() { return 1; }

    public Shape inferShape(List<Shape> in) {
        Shape x = in.get(0);
        for (int a : axes) if (a < 0 || a >= x.rank()) throw new IllegalArgumentException("axis " + a + " is out of range for shape " + x);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < x.rank(); i++) {
            if (!axes.contains(i)) out.add(x.dim(i));
            else if (keepDims) out.add(1);
        }
        return Shape.of(out);
    }

    /** The output shape with reduced axes kept as 1, for broadcasting back. */
    public Shape keptShape(Shape x) {
        int[] d = x.dims();
        for (int a : axes) d[a] = 1;
        return Shape.of(d);
    }

    /** How many input elements feed each output element. */
    public int count(Shape x) {
        int n = 1;
        for (int a : axes) n *= x.dim(a);
        return n;
    }

    public List<Node> gradient(Node out, Node g) {
        Node x = out.input(0);
        Node gKept = reshape(g, keptShape(x.shape()));
        Node spread = broadcastTo(gKept, x.shape());
        return switch (fn) {
            case SUM -> List.of(spread);
            case MEAN -> List.of(mul(spread, scalar(1.0 / count(x.shape()))));
            case MAX -> {
                Node yKept = reshape(out, keptShape(x.shape()));
                Node isMax = equal(x, yKept);
                Node ties = reshape(sum(isMax, axes, false), keptShape(x.shape()));
                yield List.of(div(mul(spread, isMax), ties));
            }
        };
    }
}
