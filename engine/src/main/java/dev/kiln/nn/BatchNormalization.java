package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.graph.Transpose;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.kiln.graph.Ops.*;

/**
 * Batch normalisation over the last (channel) axis, with Keras's defaults (momentum 0.99,
 * epsilon 1e-3). Training normalises with the batch's statistics and moves the moving mean and
 * variance towards them; inference, and a frozen layer (trainable = false, as in Keras), use the
 * moving statistics.
 *
 * <p>The variance is the biased one, Keras 3's convention: over the m values of a channel in the
 * batch, {@code var = Σ(x - mean)² / m}, used both to normalise and in the update
 * {@code moving_variance = momentum · moving_variance + (1 - momentum) · var}. PyTorch's
 * {@code running_var} moves towards the unbiased {@code Σ(x - mean)² / (m - 1)} instead, so from the
 * same batches it comes out larger by the factor m / (m - 1).
 *
 * <pre>{@code Sequential.of(Input.shape(28, 28, 1), Conv2D.of(32, 3), BatchNormalization.of(), ActivationLayer.of(Activation.RELU)) }</pre>
 */
public final class BatchNormalization extends AbstractLayer<BatchNormalization> {
    private final double momentum, epsilon;
    private Variable gamma, beta, movingMean, movingVariance;

    private BatchNormalization(double momentum, double epsilon) {
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        if (!(epsilon > 0)) throw new IllegalArgumentException("epsilon must be > 0, got " + epsilon);
        this.momentum = momentum;
        this.epsilon = epsilon;
    }

    public static BatchNormalization of() { return new BatchNormalization(0.99, 1e-3); }

    public BatchNormalization momentum(double m) { return keepName(new BatchNormalization(m, epsilon)); }
    public BatchNormalization epsilon(double e) { return keepName(new BatchNormalization(momentum, e)); }

    public Variable gamma() { return built(gamma); }
    public Variable beta() { return built(beta); }
    public Variable movingMean() { return built(movingMean); }
    public Variable movingVariance() { return built(movingVariance); }

    @Override public String type() { return "BatchNormalization"; }
    @Override protected String defaultName() { return "batch_normalization"; }

    @Override public Shape outputShape(Shape input) {
        if (input.rank() < 1) throw shapeError("at least one axis", input);
        return input;
    }

    @Override protected void createWeights(Shape input, BuildContext ctx) {
        Shape c = Shape.of(input.dim(-1));
        gamma = addWeight(ctx, "gamma", c, Initializer.ONES, true);
        beta = addWeight(ctx, "beta", c, Initializer.ZEROS, true);
        movingMean = addWeight(ctx, "moving_mean", c, Initializer.ZEROS, false);
        movingVariance = addWeight(ctx, "moving_variance", c, Initializer.ONES, false);
    }

    @Override protected boolean isTrainableWeight(Variable v) { return v == gamma || v == beta; }

    @Override public Node call(Node x, CallContext ctx) {
        Node g = ctx.read(gamma), b = ctx.read(beta);
        if (!ctx.training() || !trainable()) {
            return batchNorm(x, ctx.read(movingMean), ctx.read(movingVariance), g, b, epsilon);
        }
        List<Integer> axes = Transpose.identity(x.shape().rank() - 1);
        Node mean = mean(x, axes, false);
        Node var = mean(square(sub(x, mean)), axes, false); // biased: divides by m, as Keras 3 (see the class comment)
        Node mm = ctx.read(movingMean), mv = ctx.read(movingVariance);
        ctx.addUpdate(assign(mm, add(mul(mm, scalar(momentum)), mul(mean, scalar(1 - momentum)))));
        ctx.addUpdate(assign(mv, add(mul(mv, scalar(momentum)), mul(var, scalar(1 - momentum)))));
        return batchNormOfBatch(x, mean, var, g, b, epsilon); // its gradient: one fused op (BatchNormGrad)
    }

    @Override public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("momentum", momentum);
        c.put("epsilon", epsilon);
        return c;
    }

    static BatchNormalization fromConfig(Map<String, Object> c) {
        return new BatchNormalization(LayerConfig.real(c, "momentum"), LayerConfig.real(c, "epsilon"));
    }

}
