package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * Max or average pooling over NHWC windows. Average pooling divides by the number of
 * in-bounds elements (padding excluded, as Keras does; PyTorch's count_include_pad=False).
 * Max pooling treats padding as -inf.
 */
public record Pool2d(Kind kind, int windowH, int windowW, int strideH, int strideW, Padding padding) implements Primitive {
    public enum Kind { MAX, AVG }

    public static Pool2d max(int window) { return new Pool2d(Kind.MAX, window, window, window, window, Padding.VALID); }
    public static Pool2d avg(int window) { return new Pool2d(Kind.AVG, window, window, window, window, Padding.VALID); }

    public String name() { return kind == Kind.MAX ? "max_pool2d" : "avg_pool2d"; }
    public int arity() { return 1; }

    public ConvGeometry geometry(Shape x) {
        if (x.rank() != 4) throw new IllegalArgumentException("expected NHWC input of rank 4, got " + x);
        return ConvGeometry.of(x, windowH, windowW, x.dim(3), x.dim(3), strideH, strideW, 1, 1, padding);
    }

    public Shape inferShape(List<Shape> in) { return geometry(in.get(0)).outputShape(); }

    public List<Node> gradient(Node out, Node g) { return List.of(Ops.pool2dGrad(out.input(0), g, this)); }
}
