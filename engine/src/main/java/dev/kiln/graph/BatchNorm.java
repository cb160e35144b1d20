package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.graph.Ops.*;

/**
 * y = (x - mean) / sqrt(var + eps) · gamma + beta over the last (channel) axis.
 * Inputs: x [..., C], mean [C], var [C], gamma [C], beta [C]. In inference the statistics are the moving averages.
 * In training they are reductions of x in the graph: with {@code batchStatistics} false autodiff differentiates
 * through those reductions (a dozen elementwise and reduction ops); with it true the op promises that mean and var
 * are x's own mean and biased variance over every axis but the last, and its gradient to x is one
 * {@link BatchNormGrad} (none flows to the statistics, whose path it already accounts for). A backend without a
 * kernel for that op gets today's composed ops back from the compiler's {@code expand_batch_norm_grad} pass.
 */
public record BatchNorm(double epsilon, boolean batchStatistics) implements Primitive {
    /** Statistics given (moving averages, or any reduction autodiff should differentiate through). */
    public BatchNorm(double epsilon) { this(epsilon, false); }

    public String name() { return "batch_norm"; }
    public int arity() { return 5; }

    public Shape inferShape(List<Shape> in) {
        Shape x = in.get(0);
        if (x.rank() < 1) throw new IllegalArgumentException("batch norm needs rank >= 1");
        Shape c = Shape.of(x.dim(-1));
        for (int i = 1; i < 5; i++) {
            if (!in.get(i).equals(c)) throw new IllegalArgumentException("statistics and scale must have shape " + c + " (the channel axis), got " + in.get(i));
        }
        return x;
    }

    public List<Node> gradient(Node out, Node g) {
        Node x = out.input(0), mean = out.input(1), var = out.input(2), gamma = out.input(3);
        List<Integer> batchAxes = Transpose.identity(x.shape().rank() - 1);
        Node invStd = rsqrt(add(var, scalar(epsilon)));
        Node centered = sub(x, mean);
        Node xhat = mul(centered, invStd);
        Node dgamma = sum(mul(g, xhat), batchAxes, false), dbeta = sum(g, batchAxes, false);
        if (batchStatistics) return Arrays.asList(batchNormGrad(x, g, mean, var, gamma, epsilon), null, null, dgamma, dbeta);
        Node gScaled = mul(g, mul(gamma, invStd));
        Node dmean = neg(sum(gScaled, batchAxes, false));
        // d/dvar (var + eps)^-1/2 = -1/2 invStd^3
        Node dvar = sum(mul(mul(g, gamma), mul(centered, mul(scalar(-0.5), mul(invStd, mul(invStd, invStd))))), batchAxes, false);
        return List.of(gScaled, dmean, dvar, dgamma, dbeta);
    }
}
