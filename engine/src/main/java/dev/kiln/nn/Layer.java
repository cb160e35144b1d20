package dev.kiln.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * A layer, with Keras's lifecycle in Java idiom: a validated factory configures it,
 * {@link #build} creates its weights once the input shape is known, {@link #call} adds its
 * computation to a graph, {@link #outputShape} infers shapes for {@code summary()}.
 * Shapes here are per example (no batch axis); nodes in {@link #call} carry the batch axis first.
 */
public interface Layer {
    /** Unique within a model ("dense_2"); set when the model is assembled. */
    String name();

    /** Keras's class name ("Dense", "Conv2D") for summaries and model files. */
    String type();

    /** Output shape for one example, or an error naming this layer, the expected and the given shape. */
    Shape outputShape(Shape input);

    /** Creates the weights for this input shape. Called once, before the first {@link #call}. */
    void build(Shape input, BuildContext ctx);

    /** The layer's computation on a batch. */
    Node call(Node x, CallContext ctx);

    /** Every weight, trainable or not (moving statistics are not trainable), in the order the layer created them; an error before the layer is built. */
    List<Variable> weights();

    /**
     * Copies of the layer's weights, in the order it created them (Keras's {@code get_weights}):
     * Dense [kernel, bias], Conv2D [kernel, bias], BatchNormalization [gamma, beta, moving_mean, moving_variance].
     *
     * <pre>{@code List<Tensor> w = model.layer("dense").getWeights();   // w.get(0).shape() = [in, units] }</pre>
     */
    default List<Tensor> getWeights() { return WeightValues.copies(weights()); }

    /**
     * Sets the layer's weights from values in {@link #getWeights()} order (Keras's {@code set_weights}); the count
     * and every shape are checked before any weight changes. Compiled programs read the weights in place, so the
     * next predict, evaluate or fit step uses the new values.
     */
    default void setWeights(List<Tensor> values) {
        List<Variable> vs = weights();
        WeightValues.check(this, vs, values, 0, values.size());
        WeightValues.assign(vs, values, 0);
    }

    /** Whether the optimizer updates this layer's weights (freeze a pretrained base with false). */
    boolean trainable();

    void setTrainable(boolean trainable);

    /** Applies the layer to a symbolic value (functional API); checks the shape at once. */
    default Symbol apply(Symbol input) {
        return new Symbol(this, java.util.List.of(input), outputShape(input.shape()), null);
    }

    /** The layer's configuration for model files: the factory arguments, as JSON-ready values. */
    java.util.Map<String, Object> config();
}
