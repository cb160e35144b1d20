package dev.kiln.nn;

import dev.kiln.eager.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;

import java.util.ArrayList;
import java.util.List;

/** Weights as values, for {@link Layer#getWeights} / {@link Layer#setWeights} and the model's: copies out, checked copies in. */
final class WeightValues {
    private WeightValues() {}

    static List<Tensor> copies(List<Variable> vs) {
        List<Tensor> out = new ArrayList<>();
        for (Variable v : vs) out.add(Tensor.of(v.shape(), v.value()));
        return out;
    }

    /** Checks values[from, to) against layer {@code l}'s weights {@code vs}: the count, then each shape, naming the layer and both sides. */
    static void check(Layer l, List<Variable> vs, List<Tensor> values, int from, int to) {
        if (to - from != vs.size()) {
            throw new IllegalArgumentException(l.type() + " layer '" + l.name() + "' has " + vs.size() + " weights " + describe(vs) + ", got " + (to - from)
                    + " values; give one per weight, in getWeights() order");
        }
        for (int i = 0; i < vs.size(); i++) {
            Variable v = vs.get(i);
            Shape given = values.get(from + i).shape();
            if (!given.equals(v.shape())) {
                throw new ShapeException(l.type() + " layer '" + l.name() + "': weight " + i + " ('" + v.name() + "') has shape " + v.shape() + ", got a value of shape " + given);
            }
        }
    }

    static void assign(List<Variable> vs, List<Tensor> values, int from) {
        for (int i = 0; i < vs.size(); i++) vs.get(i).assign(values.get(from + i).toArray());
    }

    static String describe(List<Variable> vs) {
        List<String> d = new ArrayList<>();
        for (Variable v : vs) d.add(v.name().substring(v.name().lastIndexOf('/') + 1) + " " + v.shape());
        return d.toString();
    }
}
