package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/** dw: the gradient of {@link Conv2d} with respect to its filter. Inputs: x, dy. */
public record Conv2dBackwardFilter(Conv2d conv, Shape filterShape) implements Primitive {
    public String name() { return "conv2d_backward_filter"; }
    public int arity() { return 2; }

    public ConvGeometry geometry(Shape x) { return conv.geometry(x, filterShape); }

    public Shape inferShape(List<Shape> in) {
        Shape expected = geometry(in.get(0)).outputShape();
        if (!in.get(1).equals(expected)) throw new IllegalArgumentException("dy has shape " + in.get(1) + ", expected " + expected);
        return filterShape;
    }

    public List<Node> gradient(Node out, Node g) {
        Node x = out.input(0), dy = out.input(1);
        return List.of(Ops.conv2dBackwardData(dy, g, conv, x.shape()), Ops.conv2d(x, g, conv));
    }
}
