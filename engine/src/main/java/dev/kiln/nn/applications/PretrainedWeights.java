package dev.kiln.nn.applications;

import dev.kiln.graph.Variable;
import dev.kiln.io.KerasH5;
import dev.kiln.io.Safetensors;
import dev.kiln.nn.Layer;
import dev.kiln.nn.Model;
import dev.kiln.tensor.Shape;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads weights by layer name from a Keras HDF5 file (see {@link KerasH5}) or a safetensors file
 * whose tensors are named "layer/weight" ("block1_conv1/kernel", as Kiln names its variables; a
 * Keras ":0" suffix is accepted). The format is told by the file's first bytes, not its name.
 *
 * <p>Every layer with weights in the file must exist in the model with the same number of weights of
 * the same shapes; weightless layers in the file (input, pooling, flatten) are ignored, and model
 * layers the file lacks keep their values (a new head on a pretrained base). Weights are matched
 * by role (kernel, bias, gamma, …) when the file's names say it, else by position (Keras 1 files
 * name them "block1_conv1_W_1:0"). Everything is checked and read before anything is assigned, so a
 * failed load leaves the model as it was; each error names the file, the layer, the weight, and the
 * expected against the found shape.
 *
 * <pre>{@code
 * List<String> loaded = PretrainedWeights.load(model, Path.of("weights.h5"));
 * }</pre>
 */
public final class PretrainedWeights {
    private PretrainedWeights() {}

    /** Loads every layer the file has weights for; returns the names of the layers loaded. */
    public static List<String> load(Model model, Path file) throws IOException { return load(model, file, Set.of(), Set.of()); }

    /**
     * As {@link #load(Model, Path)}, but file layers named in {@code skipIfAbsent} may be missing from
     * the model (a full VGG16 file into a model without the top), and every model layer named in
     * {@code required} must be found in the file.
     */
    static List<String> load(Model model, Path file, Set<String> skipIfAbsent, Set<String> required) throws IOException {
        model.build();
        Map<String, Layer> weighted = new LinkedHashMap<>();
        for (Layer l : model.layers()) if (!l.weights().isEmpty()) weighted.put(l.name(), l);
        record Staged(Variable target, float[] values) {}
        List<Staged> staged = new ArrayList<>();
        List<String> loaded = new ArrayList<>();
        try (WeightSource src = open(file)) {
            List<String> fileLayers = new ArrayList<>();
            for (String layer : src.layers()) {
                List<String> names = src.weightNames(layer);
                if (names.isEmpty()) continue;
                fileLayers.add(layer);
                Layer target = weighted.get(layer);
                if (target == null) {
                    if (skipIfAbsent.contains(layer)) continue;
                    throw new IOException(src.source() + ": has weights for layer '" + layer + "', which the model lacks; the model's layers with weights are "
                            + weighted.keySet() + (model.layers().stream().anyMatch(l -> l.name().equals(layer)) ? " (the model's '" + layer + "' has no weights)" : ""));
                }
                List<Variable> vars = target.weights();
                if (vars.size() != names.size()) {
                    List<String> expected = new ArrayList<>();
                    for (Variable v : vars) expected.add(v.name() + " " + v.shape());
                    throw new IOException(src.source() + ": layer '" + layer + "' has " + names.size() + " weights " + names + " but the model's " + target.type()
                            + " layer '" + layer + "' expects " + vars.size() + ": " + expected);
                }
                List<String> paired = pair(vars, names);
                for (int i = 0; i < vars.size(); i++) {
                    Variable v = vars.get(i);
                    String w = paired.get(i);
                    Shape found = src.shape(layer, w);
                    if (!found.equals(v.shape())) {
                        throw new IOException(src.source() + ": layer '" + layer + "' weight '" + w + "' has shape " + found + " but the model's '" + v.name()
                                + "' expects " + v.shape() + " (weights saved for a different architecture or input size?)");
                    }
                    float[] values = src.floats(layer, w);
                    for (int k = 0; k < values.length; k++) {
                        if (!Float.isFinite(values[k])) throw new IOException(src.source() + ": layer '" + layer + "' weight '" + w + "' holds " + values[k] + " at index " + k + " (corrupt file?)");
                    }
                    staged.add(new Staged(v, values));
                }
                loaded.add(layer);
            }
            List<String> missing = new ArrayList<>();
            for (String r : required) if (weighted.containsKey(r) && !loaded.contains(r)) missing.add(r);
            if (!missing.isEmpty()) {
                throw new IOException(src.source() + ": has no weights for the model's layers " + missing + "; the file's layers with weights are " + fileLayers);
            }
        }
        for (Staged s : staged) s.target().assign(s.values());
        model.invalidatePrograms();
        return List.copyOf(loaded);
    }

    /** For each variable, the file weight that holds it: by role when every role is found once, else by position. */
    private static List<String> pair(List<Variable> vars, List<String> names) {
        Map<String, String> byRole = new LinkedHashMap<>();
        for (String n : names) if (byRole.put(role(n), n) != null) return names;
        List<String> out = new ArrayList<>();
        for (Variable v : vars) {
            String n = byRole.get(role(v.name()));
            if (n == null) return names;
            out.add(n);
        }
        return out;
    }

    /** "block1_conv1/kernel:0" → "kernel"; "block1_conv1/kernel" → "kernel". */
    static String role(String name) {
        int colon = name.lastIndexOf(':');
        if (colon > 0 && name.substring(colon + 1).chars().allMatch(Character::isDigit)) name = name.substring(0, colon);
        return name.substring(name.lastIndexOf('/') + 1);
    }

    /** One file's weights grouped by layer, whatever the format. */
    private interface WeightSource extends AutoCloseable {
        String source();
        List<String> layers() throws IOException;
        List<String> weightNames(String layer) throws IOException;
        Shape shape(String layer, String weight) throws IOException;
        float[] floats(String layer, String weight) throws IOException;
        @Override void close();
    }

    private static WeightSource open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": no such weights file");
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) { head = in.readNBytes(8); }
        if (KerasH5.isHdf5(head)) return h5(openH5(file));
        if (head.length >= 2 && head[0] == 'P' && head[1] == 'K') {
            throw new IOException(file + ": is a zip archive (a Keras 3 .keras file?), not an HDF5 or safetensors weights file; save the weights with the legacy HDF5 format or as safetensors");
        }
        String lower = file.getFileName().toString().toLowerCase();
        if (lower.endsWith(".h5") || lower.endsWith(".hdf5")) return h5(openH5(file));   // KerasH5 says what is wrong
        Safetensors.File st;
        try {
            st = Safetensors.read(file);
        } catch (IOException e) {
            if (lower.endsWith(".safetensors")) throw e;
            throw new IOException(file + ": neither an HDF5 file (no HDF5 signature) nor a readable safetensors file (" + e.getMessage() + ")", e);
        }
        return safetensors(file.toString(), st);
    }

    /**
     * Files up to this size are read into memory before parsing: jhdf reading through a FileChannel
     * maps a buffer per read, about ten times slower on many small weights; larger files (a full
     * VGG16 is 528 MB) are read from disk as needed.
     */
    private static final long IN_MEMORY_BYTES = 256L << 20;

    private static KerasH5 openH5(Path file) throws IOException {
        if (Files.size(file) > IN_MEMORY_BYTES) return KerasH5.open(file);
        return KerasH5.read(file.toString(), Files.readAllBytes(file));
    }

    private static WeightSource h5(KerasH5 f) {
        return new WeightSource() {
            public String source() { return f.source(); }
            public List<String> layers() { return f.layerNames(); }
            public List<String> weightNames(String layer) throws IOException { return f.weightNames(layer); }
            public Shape shape(String layer, String weight) throws IOException { return f.shape(layer, weight); }
            public float[] floats(String layer, String weight) throws IOException { return f.floats(layer, weight); }
            public void close() { f.close(); }
        };
    }

    private static WeightSource safetensors(String source, Safetensors.File f) throws IOException {
        Map<String, List<String>> byLayer = new LinkedHashMap<>();
        for (String name : f.names()) {
            int slash = name.lastIndexOf('/');
            if (slash <= 0) throw new IOException(source + ": tensor '" + name + "' is not named layer/weight (e.g. 'block1_conv1/kernel')");
            byLayer.computeIfAbsent(name.substring(0, slash), k -> new ArrayList<>()).add(name);
        }
        return new WeightSource() {
            public String source() { return source; }
            public List<String> layers() { return List.copyOf(byLayer.keySet()); }
            public List<String> weightNames(String layer) { return byLayer.getOrDefault(layer, List.of()); }
            public Shape shape(String layer, String weight) throws IOException { return f.shape(weight); }
            public float[] floats(String layer, String weight) throws IOException { return f.floats(weight); }
            public void close() {}
        };
    }
}
