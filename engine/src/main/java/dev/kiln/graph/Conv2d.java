package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * 2-D cross-correlation (as every DL framework calls "convolution"): x [N,H,W,C] (NHWC),
 * w [KH,KW,C/groups,F] (HWIO) → y [N,OH,OW,F]. Gradients are the two ops below, each again
 * differentiable, since all three are linear in each argument.
 */
public record Conv2d(int strideH, int strideW, Padding padding, int dilationH, int dilationW, int groups) implements Primitive {
    public Conv2d {
        if (groups < 1) throw new IllegalArgumentException("groups must be >= 1");
    }
    public static Conv2d of(int stride, Padding padding) { return new Conv2d(stride, stride, padding, 1, 1, 1); }

    public String name() { return "conv2d"; }
    public int arity() { return 2; }

    public ConvGeometry geometry(Shape x, Shape w) {
        if (w.rank() != 4) throw new IllegalArgumentException("expected HWIO filter of rank 4, got " + w);
        if (x.rank() == 4 && x.dim(3) != w.dim(2) * groups) {
            throw new IllegalArgumentException("input has " + x.dim(3) + " channels but the filter " + w + " expects " + w.dim(2) * groups + " (groups " + groups + ")");
        }
        if (w.dim(3) % groups != 0) throw new IllegalArgumentException(w.dim(3) + " filters do not divide into " + groups + " groups");
        return ConvGeometry.of(x, w.dim(0), w.dim(1), w.dim(3), groups, strideH, strideW, dilationH, dilationW, padding);
    }

    public Shape inferShape(List<Shape> in) { return geometry(in.get(0), in.get(1)).outputShape(); }

    public List<Node> gradient(Node out, Node g) {
        Node x = out.input(0), w = out.input(1);
        return List.of(Ops.conv2dBackwardData(g, w, this, x.shape()), Ops.conv2dBackwardFilter(x, g, this, w.shape()));
    }
}
