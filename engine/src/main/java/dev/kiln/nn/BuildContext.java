package dev.kiln.nn;

import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.SplittableRandom;

/** What a layer needs while creating weights: a seeded random source and its own name for weight names. */
public final class BuildContext {
    private final SplittableRandom random;
    private final String layerName;

    BuildContext(SplittableRandom random, String layerName) {
        this.random = random;
        this.layerName = layerName;
    }

    public SplittableRandom random() { return random; }

    /** A new variable named "layer/name", initialised by {@code init}. */
    public Variable weight(String name, Shape shape, Initializer init, boolean trainable) {
        return new Variable(layerName + "/" + name, shape, init.sample(shape, random), trainable);
    }
}
