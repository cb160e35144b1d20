package dev.kiln.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.graph.Variable;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A model's weights: created once, from the seed, by building every layer in topological order; read
 * and set as a whole (Keras's get_weights/set_weights) with the count and each layer's shapes checked.
 */
final class ModelWeights {
    private final Topology topology;
    private long seed;
    private boolean built;

    ModelWeights(Topology topology) { this.topology = topology; }

    long seed() { return seed; }

    void seed(long s) {
        if (built) throw new IllegalStateException("seed(" + s + ") comes too late: the weights of model '" + topology.name() + "' already exist; call seed() first");
        seed = s;
    }

    /** Creates every layer's weights, once; each layer draws from its own split of the seed. */
    void build() {
        if (built) return;
        SplittableRandom root = new SplittableRandom(seed);
        for (Symbol s : topology.order()) {
            if (s.isInput()) continue;
            SplittableRandom r = root.split();
            // merge layers build on their first input's shape; their weights (if any) do not depend on the rest
            s.layer().build(s.parents().get(0).shape(), new BuildContext(r, s.layer().name()));
        }
        built = true;
    }

    /** Every weight, in layer order (builds first). */
    List<Variable> all() {
        build();
        List<Variable> all = new ArrayList<>();
        for (Layer l : topology.layers()) all.addAll(l.weights());
        return all;
    }

    List<Variable> trainable() {
        List<Variable> t = new ArrayList<>();
        for (Variable v : all()) if (v.trainable()) t.add(v);
        return t;
    }

    /** Total and trainable parameter counts. */
    long[] counts() {
        long total = 0, trainable = 0;
        for (Variable v : all()) { total += v.shape().size(); if (v.trainable()) trainable += v.shape().size(); }
        return new long[] {total, trainable};
    }

    List<Tensor> copies() { return WeightValues.copies(all()); }

    /** Sets every weight from {@code values} in {@link #all()} order, after checking the count and every shape. */
    void set(List<Tensor> values) {
        build();
        List<Layer> layers = topology.layers();
        int total = 0;
        List<String> counts = new ArrayList<>();
        for (Layer l : layers) {
            int n = l.weights().size();
            total += n;
            if (n > 0) counts.add(l.name() + ": " + n);
        }
        if (values.size() != total) {
            throw new IllegalArgumentException("model '" + topology.name() + "' has " + total + " weights (" + String.join(", ", counts) + "), got " + values.size()
                    + " values; give one per weight, in getWeights() order");
        }
        int at = 0;
        for (Layer l : layers) {
            List<Variable> vs = l.weights();
            WeightValues.check(l, vs, values, at, at + vs.size());
            at += vs.size();
        }
        at = 0;
        for (Layer l : layers) {
            List<Variable> vs = l.weights();
            WeightValues.assign(vs, values, at);
            at += vs.size();
        }
    }
}
