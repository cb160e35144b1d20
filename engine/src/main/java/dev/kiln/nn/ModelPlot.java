package dev.kiln.nn;

import dev.kiln.graph.Variable;
import dev.kiln.io.Graphviz;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@link Model#plot}'s picture as Graphviz DOT (Keras's {@code plot_model}): one box per input and
 * layer (name, type, activation, weights; frozen layers grey), one edge per layer application
 * labelled with the shape that flows along it, {@code (None, ...)} with None the batch, and one
 * edge to each output.
 */
final class ModelPlot {
    private ModelPlot() {}

    static String dot(Model m) {
        m.build();
        StringBuilder sb = new StringBuilder();
        sb.append("digraph ").append(Graphviz.quote(m.name())).append(" {\n");
        sb.append("  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#e8f1fa\", fontname=\"Helvetica\", fontsize=11];\n");
        sb.append("  edge [fontname=\"Helvetica\", fontsize=10, color=\"#555555\"];\n");
        Map<Symbol, String> ids = new HashMap<>();
        Map<Layer, String> layerIds = new HashMap<>();
        for (Symbol s : m.order()) {
            if (s.isInput()) {
                String id = "input:" + s.inputName();
                ids.put(s, id);
                sb.append("  ").append(Graphviz.quote(id)).append(" [label=").append(Graphviz.quote(s.inputName() + "\nInput " + Summary.shape(s.shape())))
                  .append(", shape=oval, fillcolor=\"#fdf1dc\"];\n");
                continue;
            }
            Layer l = s.layer();
            String id = layerIds.get(l);
            if (id == null) {   // a shared layer is one box, with an edge per application
                id = "layer:" + l.name();
                layerIds.put(l, id);
                sb.append("  ").append(Graphviz.quote(id)).append(" [label=").append(Graphviz.quote(label(l))).append(l.trainable() || params(l) == 0 ? "" : ", fillcolor=\"#dddddd\"").append("];\n");
            }
            ids.put(s, id);
            for (Symbol p : s.parents()) {
                sb.append("  ").append(Graphviz.quote(ids.get(p))).append(" -> ").append(Graphviz.quote(id))
                  .append(" [label=").append(Graphviz.quote(" " + Summary.shape(p.shape()))).append("];\n");
            }
        }
        List<Symbol> outs = m.outputs();
        for (int k = 0; k < outs.size(); k++) {
            String id = "output:" + m.outputName(k);
            sb.append("  ").append(Graphviz.quote(id)).append(" [label=").append(Graphviz.quote(m.outputName(k))).append(", shape=plaintext, style=\"\"];\n");
            sb.append("  ").append(Graphviz.quote(ids.get(outs.get(k)))).append(" -> ").append(Graphviz.quote(id))
              .append(" [label=").append(Graphviz.quote(" " + Summary.shape(outs.get(k).shape()))).append("];\n");
        }
        return sb.append("}\n").toString();
    }

    private static String label(Layer l) {
        StringBuilder sb = new StringBuilder(l.name()).append('\n').append(l.type());
        if (l.config().get("activation") instanceof String a && !a.equals("linear")) sb.append(" (").append(a).append(')');
        long n = params(l);
        if (n > 0) sb.append('\n').append(String.format(Locale.ROOT, "%,d weights", n)).append(l.trainable() ? "" : ", frozen");
        return sb.toString();
    }

    private static long params(Layer l) {
        long n = 0;
        for (Variable v : l.weights()) n += v.shape().size();
        return n;
    }
}
