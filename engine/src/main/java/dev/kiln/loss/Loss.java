package dev.kiln.loss;

import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.Node;
import dev.kiln.graph.Softmax;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;
import dev.kiln.tensor.Shape;

import java.util.List;

import static dev.kiln.graph.Ops.*;

/**
 * Training losses, each the mean over the batch of a per-example loss (Keras's
 * {@code sum_over_batch_size}). Cross-entropies on probabilities that come straight from a
 * softmax or sigmoid are computed from the logits underneath, as Keras does, which is exact
 * where the probability form would round to log(0).
 *
 * <pre>{@code Loss.mae()  Loss.binaryCrossentropy()  Loss.sparseCategoricalCrossentropy() }</pre>
 */
public record Loss(Kind kind, boolean fromLogits, double delta) {
    public enum Kind { MAE, MSE, HUBER, BINARY_CROSSENTROPY, CATEGORICAL_CROSSENTROPY, SPARSE_CATEGORICAL_CROSSENTROPY }

    public static Loss mae() { return new Loss(Kind.MAE, false, 0); }
    public static Loss mse() { return new Loss(Kind.MSE, false, 0); }
    public static Loss huber(double delta) { return new Loss(Kind.HUBER, false, delta); }
    public static Loss huber() { return huber(1.0); }
    public static Loss binaryCrossentropy() { return new Loss(Kind.BINARY_CROSSENTROPY, false, 0); }
    public static Loss binaryCrossentropyFromLogits() { return new Loss(Kind.BINARY_CROSSENTROPY, true, 0); }
    public static Loss categoricalCrossentropy() { return new Loss(Kind.CATEGORICAL_CROSSENTROPY, false, 0); }
    public static Loss categoricalCrossentropyFromLogits() { return new Loss(Kind.CATEGORICAL_CROSSENTROPY, true, 0); }
    public static Loss sparseCategoricalCrossentropy() { return new Loss(Kind.SPARSE_CATEGORICAL_CROSSENTROPY, false, 0); }
    public static Loss sparseCategoricalCrossentropyFromLogits() { return new Loss(Kind.SPARSE_CATEGORICAL_CROSSENTROPY, true, 0); }

    public String name() {
        return switch (kind) {
            case MAE -> "mean_absolute_error"; case MSE -> "mean_squared_error"; case HUBER -> "huber";
            case BINARY_CROSSENTROPY -> "binary_crossentropy"; case CATEGORICAL_CROSSENTROPY -> "categorical_crossentropy";
            case SPARSE_CATEGORICAL_CROSSENTROPY -> "sparse_categorical_crossentropy";
        };
    }

    /** The per-example target shape that goes with a per-example prediction shape. */
    public Shape targetShape(Shape prediction) {
        if (kind == Kind.SPARSE_CATEGORICAL_CROSSENTROPY) {
            int[] d = prediction.dims();
            return Shape.of(java.util.Arrays.copyOf(d, d.length - 1));
        }
        return prediction;
    }

    /**
     * Checks targets before training: class labels must be whole numbers in [0, classes) and
     * binary targets in [0, 1]; the error names the row and the value.
     */
    public void validateTargets(float[] y, int rows, Shape prediction) {
        int per = y.length / Math.max(rows, 1);
        switch (kind) {
            case SPARSE_CATEGORICAL_CROSSENTROPY -> {
                int classes = prediction.dim(-1);
                for (int i = 0; i < y.length; i++) {
                    float v = y[i];
                    if (v != Math.rint(v) || v < 0 || v >= classes) {
                        throw new IllegalArgumentException(name() + ": label " + v + " in row " + (i / per) + " is not a class index in [0, " + classes
                                + "); the model's output has " + classes + " classes");
                    }
                }
            }
            case BINARY_CROSSENTROPY, CATEGORICAL_CROSSENTROPY -> {
                for (int i = 0; i < y.length; i++) {
                    if (!(y[i] >= 0 && y[i] <= 1)) {
                        throw new IllegalArgumentException(name() + ": target " + y[i] + " in row " + (i / per) + " is outside [0, 1]"
                                + (kind == Kind.CATEGORICAL_CROSSENTROPY ? "; for integer class labels use sparseCategoricalCrossentropy()" : ""));
                    }
                }
            }
            case MAE, MSE, HUBER -> {}
        }
    }

    /** The scalar loss of a batch: predictions [B, ...], targets [B, ...targetShape]. */
    public Node compute(Node predictions, Node targets) {
        Node p = predictions;
        Node t = targets;
        if (kind != Kind.SPARSE_CATEGORICAL_CROSSENTROPY) t = reshape(t, p.shape());
        return switch (kind) {
            case MAE -> meanAll(abs(sub(p, t)));
            case MSE -> meanAll(square(sub(p, t)));
            case HUBER -> {
                Node err = abs(sub(p, t));
                Node q = minimum(err, scalar(delta));
                yield meanAll(add(mul(scalar(0.5), square(q)), mul(scalar(delta), sub(err, q))));
            }
            case BINARY_CROSSENTROPY -> {
                if (fromLogits) yield meanAll(bceWithLogits(p, t));
                if (p.op() instanceof Unary u && u.fn() == UnaryFn.SIGMOID) yield meanAll(bceWithLogits(p.input(0), t));
                yield meanAll(bce(p, t));
            }
            case CATEGORICAL_CROSSENTROPY -> meanAll(categorical(p, t));
            case SPARSE_CATEGORICAL_CROSSENTROPY -> {
                Node labels = reshape(t, Shape.of(p.shape().sizeOf(0, p.shape().rank() - 1)));
                Node logitsOrProbs = reshape(p, Shape.of(labels.shape().dim(0), p.shape().dim(-1)));
                yield meanAll(categorical(logitsOrProbs, oneHot(labels, p.shape().dim(-1))));
            }
        };
    }

    private Node categorical(Node p, Node onehot) {
        if (fromLogits) return softmaxCrossEntropy(p, onehot);
        if (p.op() instanceof Softmax s && !s.log()) return softmaxCrossEntropy(p.input(0), onehot);
        // probabilities from elsewhere: normalise to sum 1 and clip, as Keras does, then -Σ t log p
        Node normalised = div(p, sum(p, List.of(p.shape().rank() - 1), true));
        Node clipped = minimum(maximum(normalised, scalar(BinaryFn.BCE_EPSILON)), scalar(1 - BinaryFn.BCE_EPSILON));
        return neg(sum(mul(onehot, log(clipped)), List.of(p.shape().rank() - 1), false));
    }
}
