package dev.kiln.nn;

import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The layer registry model files use: a layer's {@link Layer#type()} maps to a factory that
 * rebuilds it, unbuilt, from its {@link Layer#config()} (Keras's {@code layers.deserialize}).
 * Every layer of this package is registered; a layer of your own is registered once, before
 * loading a model file that holds it.
 *
 * <pre>{@code
 * Layers.register("Scale", c -> new Scale(((Number) c.get("factor")).doubleValue()));
 * Layer d = Layers.fromConfig("Dense", "dense_1", Map.of("units", 10, ...));
 * }</pre>
 */
public final class Layers {
    private static final Map<String, Function<Map<String, Object>, Layer>> FACTORIES = new ConcurrentHashMap<>();

    static {
        FACTORIES.put("Dense", Dense::fromConfig);
        FACTORIES.put("Conv2D", Conv2D::fromConfig);
        // both pooling types are one class whose config names the kind
        FACTORIES.put("MaxPooling2D", Pooling2D::fromConfig);
        FACTORIES.put("AveragePooling2D", Pooling2D::fromConfig);
        FACTORIES.put("GlobalAveragePooling2D", GlobalAveragePooling2D::fromConfig);
        FACTORIES.put("BatchNormalization", BatchNormalization::fromConfig);
        FACTORIES.put("Dropout", Dropout::fromConfig);
        FACTORIES.put("Flatten", Flatten::fromConfig);
        FACTORIES.put("Reshape", Reshape::fromConfig);
        FACTORIES.put("Activation", ActivationLayer::fromConfig);
        FACTORIES.put("Add", Add::fromConfig);
        FACTORIES.put("Concatenate", Concatenate::fromConfig);
    }

    private Layers() {}

    /** Registers (or replaces) the factory for {@code type}; the factory must return a layer whose {@code type()} is {@code type}. */
    public static void register(String type, Function<Map<String, Object>, Layer> factory) {
        if (type == null || type.isEmpty() || factory == null) throw new IllegalArgumentException("register needs a type name and a factory");
        FACTORIES.put(type, factory);
    }

    /** The registered type names, sorted. */
    public static java.util.Set<String> types() { return new TreeSet<>(FACTORIES.keySet()); }

    /**
     * A new, unbuilt layer of {@code type} named {@code name}, from its config. An unknown type or a
     * config with a missing or mistyped field fails with an error naming the layer, its type and the field.
     */
    public static Layer fromConfig(String type, String name, Map<String, Object> config) {
        var factory = FACTORIES.get(type);
        if (factory == null) {
            throw new IllegalArgumentException("layer '" + name + "' has unknown type '" + type + "'; known types: " + types()
                    + " (register a layer of your own with Layers.register before loading)");
        }
        Layer layer;
        try {
            layer = factory.apply(config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(type + " layer '" + name + "': " + e.getMessage(), e);
        }
        if (!layer.type().equals(type)) {
            throw new IllegalArgumentException("the factory registered for '" + type + "' made a " + layer.type() + " layer (layer '" + name + "')");
        }
        return layer instanceof AbstractLayer<?> a ? a.named(name) : layer;
    }
}
