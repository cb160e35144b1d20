package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.graph.Scope;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's structure: its inputs and outputs, the layers between them in topological order, their
 * names (unnamed layers get Keras's "dense", "dense_1", ...), and tracing — calling each layer in order
 * to turn input nodes into output nodes. Nothing here creates weights or compiles.
 */
final class Topology {
    private final String name;
    private final List<Symbol> inputs, outputs;
    private final List<Symbol> order = new ArrayList<>();
    private final List<Layer> layers = new ArrayList<>();

    Topology(String name, List<Symbol> inputs, List<Symbol> outputs) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        Set<Symbol> seen = new HashSet<>();
        for (Symbol o : this.outputs) visit(o, seen);
        for (Symbol s : order) {
            if (s.isInput() && !this.inputs.contains(s)) throw new IllegalArgumentException("the outputs depend on " + s + ", which is not among the model's inputs");
        }
        for (Symbol s : this.inputs) {
            if (!s.isInput()) throw new IllegalArgumentException(s + " is not an Input");
            if (!seen.contains(s)) throw new IllegalArgumentException("input " + s + " does not reach any output");
        }
        nameLayers();
    }

    private void visit(Symbol s, Set<Symbol> seen) {
        if (!seen.add(s)) return;
        for (Symbol p : s.parents()) visit(p, seen);
        order.add(s);
        if (!s.isInput() && !layers.contains(s.layer())) layers.add(s.layer());
    }

    /** Names the unnamed layers once, as Keras does when a model is made; a layer's own name is kept. */
    private void nameLayers() {
        Set<String> taken = new HashSet<>();
        for (Layer l : layers) if (l instanceof AbstractLayer<?> a && a.hasName() && !taken.add(a.name())) {
            throw new IllegalArgumentException("two layers are named '" + a.name() + "': layer names must be unique within a model");
        }
        Map<String, Integer> counters = new HashMap<>();
        for (Layer l : layers) {
            if (l instanceof AbstractLayer<?> a && !a.hasName()) {
                String base = a.defaultName(), n;
                do {
                    int k = counters.merge(base, 1, Integer::sum) - 1;
                    n = k == 0 ? base : base + "_" + k;
                } while (!taken.add(n));
                a.assignNameIfMissing(n);
            }
        }
    }

    String name() { return name; }
    List<Symbol> inputs() { return inputs; }
    List<Symbol> outputs() { return outputs; }
    List<Symbol> order() { return order; }
    List<Layer> layers() { return layers; }

    String outputName(int k) {
        Symbol o = outputs.get(k);
        return o.isInput() ? o.inputName() : o.layer().name();
    }

    List<String> outputNames() {
        List<String> n = new ArrayList<>();
        for (int k = 0; k < outputs.size(); k++) n.add(outputName(k));
        return n;
    }

    List<String> inputNames() {
        List<String> n = new ArrayList<>();
        for (Symbol s : inputs) n.add(s.inputName());
        return n;
    }

    Layer layer(String layerName) {
        for (Layer l : layers) if (l.name().equals(layerName)) return l;
        List<String> names = new ArrayList<>();
        for (Layer l : layers) names.add(l.name());
        throw new IllegalArgumentException("no layer named '" + layerName + "'; layers: " + names);
    }

    /** The name programs give input {@code i}'s feed ("x" for the one default-named input of a Sequential model). */
    String programInputName(int i) {
        return inputs.size() == 1 && inputs.get(0).inputName().equals("input") ? "x" : inputs.get(i).inputName();
    }

    /** The name training and evaluation programs give output {@code k}'s targets: "y", or "y/" + the output's name when there are several. */
    String programTargetName(int k) { return outputs.size() == 1 ? "y" : "y/" + outputName(k); }

    /** "dense (Dense)", the first layer, for error messages. */
    String firstLayer() { return layers.isEmpty() ? "none" : layers.get(0).name() + " (" + layers.get(0).type() + ")"; }

    /** Calls every layer in order: one node per output, from one node per input (each with the batch axis first). The layers must be built. */
    List<Node> trace(List<Node> inputNodes, CallContext ctx) {
        if (inputNodes.size() != inputs.size()) throw new IllegalArgumentException("model '" + name + "' takes " + inputs.size() + " inputs, got " + inputNodes.size());
        Map<Symbol, Node> values = new IdentityHashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Node in = inputNodes.get(i);
            Shape expected = inputs.get(i).shape();
            Shape given = perExample(in.shape());
            if (!expected.equals(given)) {
                throw new ShapeException("model '" + name + "' input " + i + " ('" + inputs.get(i).inputName() + "') expects examples of shape "
                        + expected + " but was given " + given + " (batch shape " + in.shape() + ")");
            }
            values.put(inputs.get(i), in);
        }
        for (Symbol s : order) {
            if (s.isInput()) continue;
            try (Scope scope = Scope.enter(s.layer().name())) {
                Node y;
                if (s.layer() instanceof MergeLayer m) {
                    List<Node> ins = new ArrayList<>();
                    for (Symbol p : s.parents()) ins.add(values.get(p));
                    y = m.call(ins, ctx);
                } else {
                    y = s.layer().call(values.get(s.parents().get(0)), ctx);
                }
                values.put(s, y);
            }
        }
        List<Node> outs = new ArrayList<>();
        for (Symbol o : outputs) outs.add(values.get(o));
        return outs;
    }

    static Shape perExample(Shape batched) { return Shape.of(java.util.Arrays.copyOfRange(batched.dims(), 1, batched.rank())); }

    static Shape batched(int batch, Shape perExample) {
        int[] d = new int[perExample.rank() + 1];
        d[0] = batch;
        for (int i = 0; i < perExample.rank(); i++) d[i + 1] = perExample.dim(i);
        return Shape.of(d);
    }
}
