package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/** dx = conv2dᵀ(dy, w): the gradient of {@link Conv2d} with respect to its input. Inputs: dy, w. */
public record Conv2dBackwardData(Conv2d conv, Shape inputShape) implements Primitive {
    public String name() { return "conv2d_backward_data"; }
    public int arity() { return 2; }

    public ConvGeometry geometry(Shape w) { return conv.geometry(inputShape, w); }

    public Shape inferShape(List<Shape> in) {
        Shape expected = geometry(in.get(1)).outputShape();
        if (!in.get(0).equals(expected)) throw new IllegalArgumentException("dy has shape " + in.get(0) + ", expected " + expected);
        return inputShape;
    }

    // linear in dy and in w: <gg, convᵀ(dy, w)> = <conv(gg, w), dy> = <filterGrad(gg, dy), w>
    public List<Node> gradient(Node out, Node g) {
        Node dy = out.input(0), w = out.input(1);
        return List.of(Ops.conv2d(g, w, conv), Ops.conv2dBackwardFilter(g, dy, conv, w.shape()));
    }
}
