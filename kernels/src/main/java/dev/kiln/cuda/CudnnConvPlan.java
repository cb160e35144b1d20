package dev.kiln.cuda;

import dev.kiln.graph.ConvGeometry;

/**
 * How one Kiln convolution reads to cuDNN's legacy descriptors: the numbers passed to cudnnSetTensor4dDescriptor,
 * cudnnSetFilter4dDescriptor and cudnnSetConvolution2dDescriptor, computed from {@link ConvGeometry} alone, so they
 * are unit-tested here without cuDNN.
 *
 * <p>Two facts shape it. cuDNN's descriptors pad both ends of an axis by one amount; Kiln's SAME padding puts the odd
 * row or column at the bottom or right, so a geometry goes to cuDNN only when {@link #fits()}: symmetric padding of
 * padTop/padLeft gives exactly Kiln's output size, and then every window Kiln computes lies inside it. And cuDNN's NHWC
 * filter is KRSC ([F, KH, KW, C/G]) while Kiln's is HWIO ([KH, KW, C/G, F]): the filter is transposed into the
 * workspace through two strided views of the same logical [F, C/G, KH, KW] tensor ({@link #hwioStrides()},
 * {@link #krscStrides()}), and backward-filter's KRSC result transposed back.
 *
 * <pre>{@code
 * CudnnConvPlan plan = new CudnnConvPlan(conv.geometry(x, w));
 * if (plan.fits()) dnn.tensorNhwc(plan.input()[0], plan.input()[1], plan.input()[2], plan.input()[3]);
 * }</pre>
 */
record CudnnConvPlan(ConvGeometry g) {
    /** cuDNN's (n, c, h, w) of x, in NHWC memory order. */
    int[] input() { return new int[] {g.n(), g.c(), g.h(), g.w()}; }

    /** cuDNN's (n, c, h, w) of y. */
    int[] output() { return new int[] {g.n(), g.f(), g.oh(), g.ow()}; }

    /** cuDNN's (k, c, r, s) of the filter: F filters of C/G channels, KH x KW. */
    int[] filter() { return new int[] {g.f(), g.inChannelsPerGroup(), g.kh(), g.kw()}; }

    /** (padH, padW, strideH, strideW, dilationH, dilationW) for cudnnSetConvolution2dDescriptor. */
    int[] convolution() { return new int[] {g.padTop(), g.padLeft(), g.strideH(), g.strideW(), g.dilationH(), g.dilationW()}; }

    /** The bias as cuDNN's [1, F, 1, 1]. */
    int[] bias() { return new int[] {1, g.f(), 1, 1}; }

    /** Element strides of Kiln's HWIO filter seen as the logical [F, C/G, KH, KW] tensor. */
    int[] hwioStrides() {
        int cg = g.inChannelsPerGroup(), f = g.f();
        return new int[] {1, f, g.kw() * cg * f, cg * f};
    }

    /** Element strides of cuDNN's KRSC filter seen as the same logical [F, C/G, KH, KW] tensor. */
    int[] krscStrides() {
        int cg = g.inChannelsPerGroup();
        return new int[] {g.kh() * g.kw() * cg, 1, g.kw() * cg, cg};
    }

    long filterBytes() { return 4L * g.kh() * g.kw() * g.inChannelsPerGroup() * g.f(); }

    /** Whether cuDNN's symmetric padding by (padTop, padLeft) gives exactly Kiln's output size. */
    boolean fits() {
        return fits(g.h(), g.kh(), g.dilationH(), g.strideH(), g.padTop(), g.oh()) && fits(g.w(), g.kw(), g.dilationW(), g.strideW(), g.padLeft(), g.ow());
    }

    private static boolean fits(int in, int k, int dilation, int stride, int pad, int out) {
        int span = in + 2 * pad - ((k - 1) * dilation + 1);
        return span >= 0 && span / stride + 1 == out;
    }

    /** Why {@link #fits()} is false, for the route's reason. */
    String misfit() {
        return "its padding is asymmetric (top " + g.padTop() + ", left " + g.padLeft() + ", one more at the bottom or right) and cuDNN pads both ends alike";
    }
}
