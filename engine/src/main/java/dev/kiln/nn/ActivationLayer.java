package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.tensor.Shape;

import java.util.Map;

/** An activation as a layer of its own: {@code ActivationLayer.of(Activation.RELU)}. */
public final class ActivationLayer extends AbstractLayer<ActivationLayer> {
    private final Activation activation;

    private ActivationLayer(Activation a) { this.activation = a; }

    public static ActivationLayer of(Activation a) { return new ActivationLayer(a); }

    public Activation activation() { return activation; }

    @Override public String type() { return "Activation"; }

    @Override public Shape outputShape(Shape input) { return input; }

    @Override public Node call(Node x, CallContext ctx) { return activation.apply(x); }

    @Override public Map<String, Object> config() { return Map.of("activation", activation.kerasName()); }

    static ActivationLayer fromConfig(Map<String, Object> c) { return new ActivationLayer(LayerConfig.constant(c, "activation", Activation.class)); }
}
