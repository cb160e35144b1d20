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
        int top, left, oh, ow;
        switch (padding.mode()) {
            case VALID -> {
                top = 0; left = 0;
                oh = (h - ekh) / strideH + 1;
                ow = (w - ekw) / strideW + 1;
                if (h < ekh || w < ekw) throw new IllegalArgumentException("window " + ekh + "x" + ekw + " is larger than the " + h + "x" + w + " input with valid padding");
            }
            case SAME -> {
                oh = (h + strideH - 1) / strideH;
                ow = (w + strideW - 1) / strideW;
                top = Math.max((oh - 1) * strideH + ekh - h, 0) / 2;
                left = Math.max((ow - 1) * strideW + ekw - w, 0) / 2;
            }
            case EXPLICIT -> {
                top = padding.top(); left = padding.left();
                int hp = h + padding.top() + padding.bottom(), wp = w + padding.left() + padding.right();
                if (hp < ekh || wp < ekw) throw new IllegalArgumentException("window " + ekh + "x" + ekw + " is larger than the padded " + hp + "x" + wp + " input");
                oh = (hp - ekh) / strideH + 1;
                ow = (wp - ekw) / strideW + 1;
            }
        }
        return new ConvGeometry(n, h, w, c, kh, kw, f, groups, strideH, strideW, dilationH, dilationW, top, left, oh, ow);
    }

    public Shape inputShape() { return Shape.of(n, h, w, c); }
    public Shape outputShape() { return Shape.of(n, oh, ow, f); }
    public Shape filterShape() { return Shape.of(kh, kw, c / groups, f); }
    public int inChannelsPerGroup() { return c / groups; }
    public int outChannelsPerGroup() { return f / groups; }
}
