package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * A convolution layer's forward pass as one op: {@code y = activation(conv(x, w) + bias)}, x [N,H,W,C] (NHWC),
 * w [KH,KW,C/groups,F] (HWIO), bias [F] broadcast over every output pixel. Inputs: x, w, bias. Created only by
 * the {@code fuse_linear} compiler pass, after autodiff, so that backends apply bias and activation while the
 * convolution's output tile is still in registers or cache instead of in extra passes over the activations.
 *
 * <pre>{@code Node y = Ops.node(new ConvBias(Conv2d.of(1, Padding.SAME), Epilogue.Activation.RELU), x, w, bias); }</pre>
 */
public record ConvBias(Conv2d conv, Epilogue.Activation activation) implements Lowered {
    public ConvBias {
        if (conv == null) throw new IllegalArgumentException("conv_bias needs its convolution's attributes");
        if (activation == null) throw new IllegalArgumentException("conv_bias activation must not be null; use Activation.NONE");
    }

    public String name() {
        return "conv2d_bias" + epilogue().suffix();
    }

    /** The bias and activation applied to the convolution. */
    public Epilogue epilogue() { return new Epilogue(true, activation); }

    public int arity() { return 3; }

    public ConvGeometry geometry(Shape x, Shape w) { return conv.geometry(x, w); }

    public Shape inferShape(List<Shape> in) {
        Shape y = conv.inferShape(in.subList(0, 2));
        Shape bias = in.get(2);
        if (bias.rank() != 1 || bias.dim(0) != y.dim(-1)) {
            throw new IllegalArgumentException("conv_bias bias must have shape [" + y.dim(-1) + "] to match the convolution " + y + ", got " + bias);
        }
        return y;
    }
}
