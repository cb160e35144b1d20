package dev.kiln.nn;

import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.kiln.graph.Ops.*;

/**
 * 2-D convolution over NHWC images with an HWIO kernel, bias and activation.
 *
 * <pre>{@code Conv2D.of(32, 3).relu().padding(Padding.SAME)   Conv2D.of(64, 3).strides(2) }</pre>
 */
public final class Conv2D extends AbstractLayer<Conv2D> implements ActivationShorthands<Conv2D> {
    private final int filters, kernelH, kernelW, strideH, strideW, dilation;
    private final Padding padding;
    private final Activation activation;
    private final boolean useBias;
    private final Initializer kernelInit, biasInit;
    private Variable kernel, bias;

    private Conv2D(int filters, int kernelH, int kernelW, int strideH, int strideW, int dilation, Padding padding,
                   Activation activation, boolean useBias, Initializer kernelInit, Initializer biasInit) {
        if (filters < 1 || kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || dilation < 1) {
            throw new IllegalArgumentException("Conv2D: filters, kernel size, strides and dilation must be >= 1");
        }
        if (padding.mode() == Padding.Mode.EXPLICIT) throw new IllegalArgumentException("Conv2D takes Padding.SAME or Padding.VALID (as Keras)");
        this.filters = filters; this.kernelH = kernelH; this.kernelW = kernelW; this.strideH = strideH; this.strideW = strideW;
        this.dilation = dilation; this.padding = padding; this.activation = activation; this.useBias = useBias;
        this.kernelInit = kernelInit; this.biasInit = biasInit;
    }

    /** {@code filters} filters of size {@code kernel}×{@code kernel}, stride 1, valid padding (Keras's defaults). */
    public static Conv2D of(int filters, int kernel) { return of(filters, kernel, kernel); }

    public static Conv2D of(int filters, int kernelH, int kernelW) {
        return new Conv2D(filters, kernelH, kernelW, 1, 1, 1, Padding.VALID, Activation.LINEAR, true, Initializer.GLOROT_UNIFORM, Initializer.ZEROS);
    }

    private Conv2D with(int sh, int sw, int dil, Padding p, Activation a, boolean bias, Initializer ki) {
        return keepName(new Conv2D(filters, kernelH, kernelW, sh, sw, dil, p, a, bias, ki, biasInit));
    }

    public Conv2D strides(int s) { return with(s, s, dilation, padding, activation, useBias, kernelInit); }
    public Conv2D padding(Padding p) { return with(strideH, strideW, dilation, p, activation, useBias, kernelInit); }
    public Conv2D same() { return padding(Padding.SAME); }
    public Conv2D dilation(int d) { return with(strideH, strideW, d, padding, activation, useBias, kernelInit); }
    @Override public Conv2D activation(Activation a) { return with(strideH, strideW, dilation, padding, a, useBias, kernelInit); }
    public Conv2D noBias() { return with(strideH, strideW, dilation, padding, activation, false, kernelInit); }
    public Conv2D kernelInitializer(Initializer i) { return with(strideH, strideW, dilation, padding, activation, useBias, i); }

    public Activation activation() { return activation; }
    public int filters() { return filters; }
    public int kernelH() { return kernelH; }
    public int kernelW() { return kernelW; }
    public int strideH() { return strideH; }
    public int strideW() { return strideW; }
    public int dilation() { return dilation; }
    public Variable kernel() { return built(kernel); }
    /** The bias, or null for a layer made without one. */
    public Variable bias() { return built(bias); }

    private Conv2d op() { return new Conv2d(strideH, strideW, padding, dilation, dilation, 1); }

    @Override public String type() { return "Conv2D"; }

    @Override public Shape outputShape(Shape input) {
        if (input.rank() != 3) throw shapeError("an image [height, width, channels]", input);
        try {
            Shape out = op().geometry(Shape.of(1, input.dim(0), input.dim(1), input.dim(2)),
                    Shape.of(kernelH, kernelW, input.dim(2), filters)).outputShape();
            return Shape.of(out.dim(1), out.dim(2), out.dim(3));
        } catch (IllegalArgumentException e) {
            throw shapeError("an image large enough for a " + kernelH + "x" + kernelW + " kernel (" + e.getMessage() + ")", input);
        }
    }

    @Override protected void createWeights(Shape input, BuildContext ctx) {
        kernel = addWeight(ctx, "kernel", Shape.of(kernelH, kernelW, input.dim(2), filters), kernelInit, true);
        if (useBias) bias = addWeight(ctx, "bias", Shape.of(filters), biasInit, true);
    }

    @Override public Node call(Node x, CallContext ctx) {
        Node y = conv2d(x, ctx.read(kernel), op());
        if (useBias) y = add(y, ctx.read(bias));
        return activation.apply(y);
    }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("filters", filters);
        c.put("kernel_size", java.util.List.of(kernelH, kernelW));
        c.put("strides", java.util.List.of(strideH, strideW));
        c.put("padding", padding.mode().name().toLowerCase());
        c.put("dilation_rate", dilation);
        c.put("activation", activation.kerasName());
        c.put("use_bias", useBias);
        c.put("kernel_initializer", kernelInit.name());
        return c;
    }

    static Conv2D fromConfig(Map<String, Object> c) {
        int[] k = LayerConfig.integers(c, "kernel_size", 2), s = LayerConfig.integers(c, "strides", 2);
        // the bias initialiser is not part of the config: a rebuilt layer gets its weights from the file
        return new Conv2D(LayerConfig.integer(c, "filters"), k[0], k[1], s[0], s[1], LayerConfig.integer(c, "dilation_rate"),
                padding(c), LayerConfig.constant(c, "activation", Activation.class), LayerConfig.bool(c, "use_bias"),
                LayerConfig.constant(c, "kernel_initializer", Initializer.class), Initializer.ZEROS);
    }

    static Padding padding(Map<String, Object> c) {
        String p = LayerConfig.string(c, "padding");
        return switch (p) {
            case "same" -> Padding.SAME;
            case "valid" -> Padding.VALID;
            default -> throw new IllegalArgumentException("field 'padding' is '" + p + "', not 'same' or 'valid'");
        };
    }
}
