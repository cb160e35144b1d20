package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.Map;

import static dev.kiln.graph.Ops.*;

/**
 * A fully connected layer on the last axis: y = activation(x · kernel + bias).
 *
 * <pre>{@code Dense.of(64).relu()   Dense.of(10).softmax()   Dense.of(1).noBias() }</pre>
 */
public final class Dense extends AbstractLayer<Dense> implements ActivationShorthands<Dense> {
    private final int units;
    private final Activation activation;
    private final boolean useBias;
    private final Initializer kernelInit, biasInit;
    private Variable kernel, bias;

    private Dense(int units, Activation activation, boolean useBias, Initializer kernelInit, Initializer biasInit) {
        if (units < 1) throw new IllegalArgumentException("Dense needs at least 1 unit, got " + units);
        this.units = units;
        this.activation = activation;
        this.useBias = useBias;
        this.kernelInit = kernelInit;
        this.biasInit = biasInit;
    }

    public static Dense of(int units) { return new Dense(units, Activation.LINEAR, true, Initializer.GLOROT_UNIFORM, Initializer.ZEROS); }

    @Override public Dense activation(Activation a) { return keepName(new Dense(units, a, useBias, kernelInit, biasInit)); }
    public Dense noBias() { return keepName(new Dense(units, activation, false, kernelInit, biasInit)); }
    public Dense kernelInitializer(Initializer i) { return keepName(new Dense(units, activation, useBias, i, biasInit)); }
    public Dense biasInitializer(Initializer i) { return keepName(new Dense(units, activation, useBias, kernelInit, i)); }

    public int units() { return units; }
    public Activation activation() { return activation; }
    public Variable kernel() { return built(kernel); }
    /** The bias, or null for a layer made with {@link #noBias()}. */
    public Variable bias() { return built(bias); }

    @Override public String type() { return "Dense"; }

    @Override public Shape outputShape(Shape input) {
        if (input.rank() < 1) throw shapeError("at least one axis of features", input);
        return input.withDim(-1, units);
    }

    @Override protected void createWeights(Shape input, BuildContext ctx) {
        kernel = addWeight(ctx, "kernel", Shape.of(input.dim(-1), units), kernelInit, true);
        if (useBias) bias = addWeight(ctx, "bias", Shape.of(units), biasInit, true);
    }

    @Override public Node call(Node x, CallContext ctx) {
        Node y = matmul(x, ctx.read(kernel));
        if (useBias) y = add(y, ctx.read(bias));
        return activation.apply(y);
    }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("units", units);
        c.put("activation", activation.kerasName());
        c.put("use_bias", useBias);
        c.put("kernel_initializer", kernelInit.name());
        c.put("bias_initializer", biasInit.name());
        return c;
    }

    static Dense fromConfig(Map<String, Object> c) {
        return new Dense(LayerConfig.integer(c, "units"), LayerConfig.constant(c, "activation", Activation.class), LayerConfig.bool(c, "use_bias"),
                LayerConfig.constant(c, "kernel_initializer", Initializer.class), LayerConfig.constant(c, "bias_initializer", Initializer.class));
    }
}
