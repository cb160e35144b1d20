package dev.kiln.graph;

import dev.kiln.tensor.Shape;

/**
 * The resolved sizes of one 2-D convolution or pooling window over NHWC data:
 * x [n, h, w, c], filter [kh, kw, c / groups, f] (HWIO, as Keras), y [n, oh, ow, f].
 * Pooling uses f = c and groups = c. Backends and the interpreter read all sizes from here.
 */
public record ConvGeometry(int n, int h, int w, int c, int kh, int kw, int f, int groups,
                           int strideH, int strideW, int dilationH, int dilationW,
                           int padTop, int padLeft, int oh, int ow) {

    public static ConvGeometry of(Shape x, int kh, int kw, int f, int groups, int strideH, int strideW,
                                  int dilationH, int dilationW, Padding padding) {
        if (x.rank() != 4) throw new IllegalArgumentException("expected NHWC input of rank 4, got " + x);
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1) throw new IllegalArgumentException("strides and dilations must be >= 1");
        int n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
        int ekh = (kh - 1) * dilationH + 1, ekw = (kw - 1) * dilationW + 1;
        int[] pads = switch (padding.mode()) {
            case VALID -> {
                if (h < ekh || w < ekw) throw new IllegalArgumentException("window " + ekh + "x" + ekw + " is larger than the " + h + "x" + w + " input with valid padding");
                yield new int[] {0, 0, (h - ekh) / strideH + 1, (w - ekw) / strideW + 1};
            }
            case SAME -> {
                int sh = (h + strideH - 1) / strideH, sw = (w + strideW - 1) / strideW;
                yield new int[] {Math.max((sh - 1) * strideH + ekh - h, 0) / 2, Math.max((sw - 1) * strideW + ekw - w, 0) / 2, sh, sw};
            }
            case EXPLICIT -> {
                int hp = h + padding.top() + padding.bottom(), wp = w + padding.left() + padding.right();
                if (hp < ekh || wp < ekw) throw new IllegalArgumentException("window " + ekh + "x" + ekw + " is larger than the padded " + hp + "x" + wp + " input");
                yield new int[] {padding.top(), padding.left(), (hp - ekh) / strideH + 1, (wp - ekw) / strideW + 1};
            }
        };
        int top = pads[0], left = pads[1], oh = pads[2], ow = pads[3];
        return new ConvGeometry(n, h, w, c, kh, kw, f, groups, strideH, strideW, dilationH, dilationW, top, left, oh, ow);
    }

    public Shape inputShape() { return Shape.of(n, h, w, c); }
    public Shape outputShape() { return Shape.of(n, oh, ow, f); }
    public Shape filterShape() { return Shape.of(kh, kw, c / groups, f); }
    public int inChannelsPerGroup() { return c / groups; }
    public int outChannelsPerGroup() { return f / groups; }
}
