package dev.kiln.testing;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Transpose;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.kiln.graph.Ops.*;

/**
 * A Conv-BN-ReLU training graph with the statistics built as BatchNormalization builds them in training (mean and
 * biased variance of the convolution's output), in either form: {@code fused} marks the batch norm's statistics as the
 * batch's own (its dx is one BatchNormGrad), else autodiff differentiates through them (today's composed ops).
 * Inputs x [n, h, w, 3], filter [3, 3, 3, channels], gamma, beta [channels], loss weights c [n, h, w, channels];
 * outputs: loss = mean(relu(bn(conv(x))) · c), then d loss / d (x, filter, gamma, beta).
 */
public record BatchNormStep(Graph graph, List<Node> inputs) {
    public static final double EPSILON = 1e-3;

    public static BatchNormStep convBnRelu(boolean fused, int n, int hw, int channels) {
        Node x = input("x", Shape.of(n, hw, hw, 3)), filter = input("filter", Shape.of(3, 3, 3, channels));
        Node gamma = input("gamma", Shape.of(channels)), beta = input("beta", Shape.of(channels));
        Node c = input("c", Shape.of(n, hw, hw, channels));
        Node h = conv2d(x, filter, Conv2d.of(1, Padding.SAME));
        List<Integer> axes = Transpose.identity(3);
        Node mean = mean(h, axes, false), var = mean(square(sub(h, mean)), axes, false);
        Node y = fused ? batchNormOfBatch(h, mean, var, gamma, beta, EPSILON) : batchNorm(h, mean, var, gamma, beta, EPSILON);
        Node loss = meanAll(mul(relu(y), c));
        List<Node> outs = new ArrayList<>(List.of(loss));
        outs.addAll(Autodiff.gradients(loss, List.of(x, filter, gamma, beta)));
        return new BatchNormStep(new Graph(outs, List.of()), List.of(x, filter, gamma, beta, c));
    }

    /** Each channel's batch mean and biased variance (in double, rounded once) of x: [rows, channels], into mean and var. */
    public static void batchStatistics(float[] x, int rows, int channels, float[] mean, float[] var) {
        for (int c = 0; c < channels; c++) {
            double m = 0, v = 0;
            for (int i = 0; i < rows; i++) m += x[i * channels + c];
            m /= rows;
            for (int i = 0; i < rows; i++) v += (x[i * channels + c] - m) * (x[i * channels + c] - m);
            mean[c] = (float) m;
            var[c] = (float) (v / rows);
        }
    }

    /** Seeded values for {@link #inputs()}: Gaussian, gamma around 1. */
    public float[][] feeds(long seed) {
        Random r = new Random(seed);
        float[][] f = new float[inputs.size()][];
        for (int i = 0; i < f.length; i++) {
            f[i] = new float[inputs.get(i).shape().size()];
            for (int k = 0; k < f[i].length; k++) f[i][k] = (float) (r.nextGaussian() + (i == 2 ? 1 : 0));
        }
        return f;
    }
}
