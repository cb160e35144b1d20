package dev.kiln.nn;


import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's architecture as a JSON-ready value (the part of a model file that is not tensors), and
 * the model rebuilt from it. The value:
 *
 * <pre>{@code
 * {"format": "kiln.model", "version": 1, "name": "sequential", "seed": 7,
 *  "inputs":  [{"name": "input", "shape": [4]}],
 *  "layers":  [{"type": "Dense", "name": "dense", "trainable": true, "config": {"units": 8, ...}}, ...],
 *  "nodes":   [{"layer": "dense", "inputs": ["input"]}, {"layer": "dense_1", "inputs": ["dense"]}, ...],
 *  "outputs": ["dense_1"]}
 * }</pre>
 *
 * Layers are listed once each, in model order. Nodes are the layer applications in topological
 * order, so a rebuild is one pass; each names what it takes: an input's name, a layer's name for
 * that layer's first application, or "name#k" for its k-th (0-based) when a layer is shared.
 * Unknown fields are ignored, so later versions may add some; a missing one is an error naming it.
 */
public final class Architecture {
    public static final String FORMAT = "kiln.model";
    public static final int VERSION = 1;

    private Architecture() {}

    /** The architecture of {@code model} (built first, so every config holds its drawn values, e.g. dropout seeds). */
    public static Map<String, Object> describe(Model model) {
        model.build();
        Map<Symbol, String> refs = new HashMap<>();
        Set<String> inputNames = new HashSet<>();
        List<Object> inputs = new ArrayList<>();
        for (Symbol s : model.inputs()) {
            if (!inputNames.add(s.inputName())) {
                throw new IllegalArgumentException("model '" + model.name() + "' has two inputs named '" + s.inputName() + "'; name them apart with Input.named(...) to save it");
            }
            refs.put(s, s.inputName());
            Map<String, Object> in = new LinkedHashMap<>();
            in.put("name", s.inputName());
            in.put("shape", s.shape().toList());
            inputs.add(in);
        }
        List<Object> layers = new ArrayList<>();
        for (Layer l : model.layers()) {
            if (inputNames.contains(l.name())) {
                throw new IllegalArgumentException("model '" + model.name() + "': layer '" + l.name() + "' has the name of an input; rename one to save the model");
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("type", l.type());
            e.put("name", l.name());
            e.put("trainable", l.trainable());
            e.put("config", l.config());
            layers.add(e);
        }
        Map<Layer, Integer> calls = new HashMap<>();
        List<Object> nodes = new ArrayList<>();
        for (Symbol s : model.order()) {
            if (s.isInput()) continue;
            int k = calls.merge(s.layer(), 1, Integer::sum) - 1;
            refs.put(s, k == 0 ? s.layer().name() : s.layer().name() + "#" + k);
            List<Object> parents = new ArrayList<>();
            for (Symbol p : s.parents()) parents.add(refs.get(p));
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("layer", s.layer().name());
            n.put("inputs", parents);
            nodes.add(n);
        }
        List<Object> outputs = new ArrayList<>();
        for (Symbol o : model.outputs()) outputs.add(refs.get(o));

        Map<String, Object> a = new LinkedHashMap<>();
        a.put("format", FORMAT);
        a.put("version", VERSION);
        a.put("name", model.name());
        a.put("seed", model.seed());
        a.put("inputs", inputs);
        a.put("layers", layers);
        a.put("nodes", nodes);
        a.put("outputs", outputs);
        return a;
    }

    /**
     * A new, built model from an architecture value (as {@link dev.kiln.io.Json#parse} returns it), with
     * freshly initialised weights. Errors name the part at fault: "layers[2] ('dense_1'): config is missing field 'units'".
     */
    public static Model rebuild(Object value) {
        Map<String, Object> a = object(value, "the architecture");
        String format = str(a, "format", "the architecture");
        if (!format.equals(FORMAT)) throw new IllegalArgumentException("format is '" + format + "', not '" + FORMAT + "'");
        long version = num(a, "version", "the architecture");
        if (version != VERSION) throw new IllegalArgumentException("format version " + version + " is not one this Kiln reads (" + VERSION + ")");

        Map<String, Symbol> refs = new HashMap<>();
        List<Symbol> inputs = new ArrayList<>();
        List<Object> inList = list(a, "inputs", "the architecture");
        for (int i = 0; i < inList.size(); i++) {
            String where = "inputs[" + i + "]";
            Map<String, Object> in = object(inList.get(i), where);
            String n = str(in, "name", where);
            Symbol s = Input.named(n, ints(in, "shape", where));
            if (refs.put(n, s) != null) throw new IllegalArgumentException(where + ": a second input named '" + n + "'");
            inputs.add(s);
        }

        Map<String, Layer> layers = new LinkedHashMap<>();
        List<Object> layerList = list(a, "layers", "the architecture");
        for (int i = 0; i < layerList.size(); i++) {
            String where = "layers[" + i + "]";
            Map<String, Object> e = object(layerList.get(i), where);
            String n = str(e, "name", where);
            where += " ('" + n + "')";
            String type = str(e, "type", where);
            Map<String, Object> config = object(field(e, "config", where), where + " config");
            boolean trainable = !(e.get("trainable") instanceof Boolean b) || b;
            Layer l;
            try {
                l = Layers.fromConfig(type, n, config);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(where + ": " + ex.getMessage(), ex);
            }
            // before build, so frozen layers create non-trainable weights
            l.setTrainable(trainable);
            if (layers.put(n, l) != null) throw new IllegalArgumentException(where + ": a second layer named '" + n + "'");
        }

        Map<Layer, Integer> calls = new HashMap<>();
        List<Object> nodeList = list(a, "nodes", "the architecture");
        for (int i = 0; i < nodeList.size(); i++) {
            String where = "nodes[" + i + "]";
            Map<String, Object> n = object(nodeList.get(i), where);
            String layerName = str(n, "layer", where);
            Layer l = layers.get(layerName);
            if (l == null) throw new IllegalArgumentException(where + ": layer '" + layerName + "' is not among the layers " + layers.keySet());
            List<Symbol> parents = new ArrayList<>();
            for (Object r : list(n, "inputs", where)) parents.add(resolve(refs, r, where));
            if (parents.isEmpty()) throw new IllegalArgumentException(where + ": layer '" + layerName + "' is applied to no inputs");
            Symbol s;
            try {
                if (l instanceof MergeLayer m) s = m.apply(parents.toArray(Symbol[]::new));
                else if (parents.size() == 1) s = l.apply(parents.get(0));
                else throw new IllegalArgumentException(l.type() + " takes one input, the file gives it " + parents.size());
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException(where + " ('" + layerName + "'): " + ex.getMessage(), ex);
            }
            int k = calls.merge(l, 1, Integer::sum) - 1;
            refs.put(k == 0 ? layerName : layerName + "#" + k, s);
        }
        List<Symbol> outputs = new ArrayList<>();
        for (Object r : list(a, "outputs", "the architecture")) outputs.add(resolve(refs, r, "outputs"));

        Model m = new Model(str(a, "name", "the architecture"), inputs, outputs);
        m.seed(num(a, "seed", "the architecture"));
        return m.build();
    }

    private static Symbol resolve(Map<String, Symbol> refs, Object r, String where) {
        if (!(r instanceof String name)) throw new IllegalArgumentException(where + ": a reference must be a string (an input or layer name), found " + dev.kiln.io.Json.write(r));
        Symbol s = refs.get(name);
        if (s == null) throw new IllegalArgumentException(where + ": refers to '" + name + "', which no earlier input or node defines");
        return s;
    }

    private static Object field(Map<String, Object> m, String key, String where) {
        if (!m.containsKey(key)) throw new IllegalArgumentException(where + " is missing field '" + key + "'");
        return m.get(key);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object v, String where) {
        if (!(v instanceof Map<?, ?> m)) throw new IllegalArgumentException(where + " must be a JSON object");
        return (Map<String, Object>) m;
    }

    private static String str(Map<String, Object> m, String key, String where) {
        if (!(field(m, key, where) instanceof String s)) throw new IllegalArgumentException(where + ": field '" + key + "' must be a string");
        return s;
    }

    private static long num(Map<String, Object> m, String key, String where) {
        if (!(field(m, key, where) instanceof Long l)) throw new IllegalArgumentException(where + ": field '" + key + "' must be an integer");
        return l;
    }

    private static List<Object> list(Map<String, Object> m, String key, String where) {
        if (!(field(m, key, where) instanceof List<?> l)) throw new IllegalArgumentException(where + ": field '" + key + "' must be a list");
        return new ArrayList<>(l);
    }

    private static int[] ints(Map<String, Object> m, String key, String where) {
        List<Object> l = list(m, key, where);
        int[] d = new int[l.size()];
        for (int i = 0; i < d.length; i++) {
            if (!(l.get(i) instanceof Long x) || x < 1 || x > Integer.MAX_VALUE) throw new IllegalArgumentException(where + ": field '" + key + "' must list positive integers, found " + l);
            d[i] = (int) (long) x;
        }
        return d;
    }

}
