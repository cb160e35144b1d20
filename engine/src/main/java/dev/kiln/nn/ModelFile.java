package dev.kiln.nn;

import dev.kiln.graph.Variable;
import dev.kiln.io.FloatTensor;
import dev.kiln.io.Json;
import dev.kiln.io.Safetensors;
import dev.kiln.metric.Metric;
import dev.kiln.optim.Optimizer;
import dev.kiln.tensor.Shape;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A Kiln model file: one safetensors file holding every weight and optimizer slot as an F32 tensor
 * under its variable name ("dense/kernel", "dense/kernel/adam_m"), and, in the header's
 * {@code __metadata__} under the key {@value #METADATA_KEY}, a JSON document: the
 * {@link Architecture} (format version, name, seed, inputs, layers with type/name/config, their
 * wiring, outputs), the weight names, and the training state ({@code iterations}, the optimizer's
 * type and learning rate, its slot names, the loss and metric names).
 *
 * <p>Why one file and not a directory of model.json + weights + optimizer state: a single file is
 * written in one atomic step (a temporary file in the same folder, then one rename, as
 * {@link Safetensors#write} does), so a crash or a full disk mid-save leaves the previous file
 * whole, and the architecture can never disagree with the weights beside it. A directory cannot be
 * replaced atomically. Any safetensors reader can still open the weights.
 *
 * <p>Compile settings are recorded but not rebuilt: as with PyTorch's {@code optimizer.load_state_dict},
 * the user compiles the loaded model with the optimizer and loss it was trained with, and the saved
 * slots are put in place when the first training program is built ({@link Model#restoreOptimizerState});
 * with {@code model.iterations()} restored, Adam's step and dropout masks continue where they were.
 *
 * <pre>{@code
 * ModelFile.save(model, Path.of("mnist.safetensors"));
 * Model m = ModelFile.load(Path.of("mnist.safetensors"));
 * m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy(), Metric.accuracy());
 * m.fit(train, Fit.epochs(10).initialEpoch(5));   // resumes exactly after epoch 5
 * }</pre>
 *
 * Errors name the file and what is wrong in it: the tensor, the expected and the found shape, the
 * missing or extra tensor names, the architecture field.
 *
 * <p>Corruption is detected, not loaded: the file carries a CRC32C checksum of header and data
 * ({@link Safetensors#CHECKSUM_KEY}), and the document records that it does ({@code "checksum": "crc32c"}), so a
 * flipped bit anywhere, the checksum's own key included, fails the load naming the file. Model files written
 * before checksums (neither entry nor field) still load, unverified, as do plain safetensors weights from other
 * tools through {@link #loadWeights}.
 */
public final class ModelFile {
    /** The metadata key of the JSON document. */
    public static final String METADATA_KEY = "kiln.model";
    /**
     * The document field that says the file carries {@link Safetensors#CHECKSUM_KEY}: a file whose document has it
     * but whose checksum entry is gone (a flipped bit in its key, an edit by another tool) is rejected, not loaded
     * unverified. Files written before checksums existed have neither, and load as before.
     */
    public static final String CHECKSUM_FIELD = "checksum";

    /** Test hook: sees (and may wrap) the tensors about to be written, e.g. to fail a write midway. Null in normal use. */
    static volatile UnaryOperator<Map<String, FloatTensor>> beforeWrite;

    private ModelFile() {}

    /** Writes {@code model} (built first if need be) to {@code path} atomically; the folder must exist. */
    public static void save(Model model, Path path) throws IOException {
        Map<String, Object> doc = Architecture.describe(model);
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        List<Object> weightNames = new ArrayList<>();
        for (Variable v : model.weights()) {
            put(tensors, v, model);
            weightNames.add(v.name());
        }
        doc.put("weights", weightNames);

        Map<String, Object> training = new LinkedHashMap<>();
        training.put("iterations", model.iterations());
        Optimizer opt = model.optimizer();
        List<Object> slotNames = new ArrayList<>();
        if (opt != null) {
            training.put("optimizer", opt.getClass().getSimpleName());
            training.put("learning_rate", opt.learningRate());
            if (model.outputs().size() == 1) {
                training.put("loss", model.loss().name());
            } else {
                Map<String, Object> losses = new LinkedHashMap<>(); // output name -> loss name, as Keras's loss dict
                for (int k = 0; k < model.outputs().size(); k++) losses.put(model.outputName(k), model.losses().get(k).name());
                training.put("loss", losses);
            }
            List<Object> metrics = new ArrayList<>();
            for (Metric m : model.metrics()) metrics.add(m.name());
            training.put("metrics", metrics);
        }
        // slots waiting to be restored count too, so loading and saving again keeps the optimizer state
        List<Variable> slots = new ArrayList<>(model.optimizerState());
        // sorted by name, so that equal models write equal files whatever order the optimizer made its slots in
        slots.sort((a, b) -> a.name().compareTo(b.name()));
        for (Variable v : slots) {
            put(tensors, v, model);
            slotNames.add(v.name());
        }
        training.put("slots", slotNames);
        LossScale scale = model.lossScale();
        if (scale != null) {
            training.put("loss_scale", Map.of("scale", (double) scale.scale(), "good_steps", (long) scale.goodSteps(), "growth_interval", (long) scale.growthIntervalSteps()));
        }
        doc.put("training", training);
        doc.put(CHECKSUM_FIELD, "crc32c");

        var hook = beforeWrite;
        Safetensors.write(path, hook == null ? tensors : hook.apply(tensors), Map.of(METADATA_KEY, Json.write(doc)));
    }

    private static void put(Map<String, FloatTensor> tensors, Variable v, Model model) {
        // the live array, not a copy: the write finishes before training touches the weights again
        if (tensors.put(v.name(), new FloatTensor(v.shape(), v.value())) != null) {
            throw new IllegalArgumentException("model '" + model.name() + "' has two variables named '" + v.name() + "'; rename a layer to save it");
        }
    }

    /**
     * Rebuilds the model of a file written by {@link #save}: every layer from its config, then the
     * weights (checked by name and shape), the step counter and the optimizer state, which waits for
     * {@code compile} and the first training program.
     */
    public static Model load(Path path) throws IOException {
        Safetensors.File file = Safetensors.read(path);
        Map<String, Object> doc = document(file);
        Model model;
        try {
            model = Architecture.rebuild(doc);
        } catch (IllegalArgumentException e) {
            throw new IOException(file.source() + ": architecture: " + e.getMessage(), e);
        }
        Map<String, Object> training = doc.get("training") instanceof Map<?, ?> t ? cast(t) : Map.of();
        List<String> slotNames = names(file, training.get("slots"), "training.slots");
        assign(model, file, slotNames);
        if (training.get("iterations") instanceof Long it) model.setIterations(it);
        List<Variable> slots = new ArrayList<>();
        for (String n : slotNames) slots.add(new Variable(n, file.shape(n), file.floats(n), false));
        model.restoreOptimizerState(slots);
        if (training.get("loss_scale") instanceof Map<?, ?> ls) restoreLossScale(model, file, cast(ls));
        return model;
    }

    /** The dynamic loss scale a file was saved with, so a resumed fp16 run neither restarts at 2^16 nor loses its count. */
    private static void restoreLossScale(Model model, Safetensors.File file, Map<String, Object> ls) throws IOException {
        if (!(ls.get("scale") instanceof Number scale && ls.get("good_steps") instanceof Number good && ls.get("growth_interval") instanceof Number interval)) {
            throw new IOException(file.source() + ": training.loss_scale must hold the numbers scale, good_steps and growth_interval, got " + ls);
        }
        try {
            LossScale s = LossScale.initial(scale.floatValue()).growthInterval(interval.intValue());
            s.restore(scale.floatValue(), good.intValue());
            model.lossScale(s);
        } catch (IllegalArgumentException e) {
            throw new IOException(file.source() + ": training.loss_scale: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the weights of {@code path} (a Kiln model file or a plain safetensors file of weights)
     * into {@code model}, by name and shape; optimizer slots in the file are skipped.
     */
    public static void loadWeights(Model model, Path path) throws IOException {
        Safetensors.File file = Safetensors.read(path);
        List<String> slots = List.of();
        if (file.metadata().containsKey(METADATA_KEY)) {
            Map<String, Object> doc = document(file);
            if (doc.get("training") instanceof Map<?, ?> t) slots = names(file, t.get("slots"), "training.slots");
        }
        assign(model, file, slots);
    }

    /** Checks every weight against the file (names both ways, then shapes) before assigning any, so a bad file changes nothing. */
    private static void assign(Model model, Safetensors.File file, List<String> slotNames) throws IOException {
        List<Variable> weights = model.weights();
        Set<String> expected = new HashSet<>();
        List<String> missing = new ArrayList<>();
        for (Variable v : weights) {
            expected.add(v.name());
            if (!file.contains(v.name())) missing.add(v.name());
        }
        for (String s : slotNames) if (!file.contains(s)) missing.add(s);
        List<String> extra = new ArrayList<>();
        Set<String> slotSet = new HashSet<>(slotNames);
        for (String n : file.names()) if (!expected.contains(n) && !slotSet.contains(n)) extra.add(n);
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new IOException(file.source() + ": does not fit model '" + model.name() + "': "
                    + (missing.isEmpty() ? "" : "missing tensors " + missing + (extra.isEmpty() ? "" : "; "))
                    + (extra.isEmpty() ? "" : "extra tensors " + extra + " (no weight of the model has these names)"));
        }
        for (Variable v : weights) {
            Shape found = file.shape(v.name());
            if (!found.equals(v.shape())) {
                throw new IOException(file.source() + ": tensor '" + v.name() + "': expected shape " + v.shape() + " (layer '" + layerOf(model, v) + "'), found " + found);
            }
        }
        List<float[]> values = new ArrayList<>();
        for (Variable v : weights) values.add(file.floats(v.name()));
        for (int i = 0; i < weights.size(); i++) weights.get(i).assign(values.get(i));
        model.invalidatePrograms();
    }

    private static String layerOf(Model model, Variable v) {
        for (Layer l : model.layers()) if (l.weights().contains(v)) return l.name() + "', " + l.type() + " '";
        return "?";
    }

    private static Map<String, Object> document(Safetensors.File file) throws IOException {
        String json = file.metadata().get(METADATA_KEY);
        if (json == null) {
            throw new IOException(file.source() + ": not a Kiln model file: its metadata has no '" + METADATA_KEY + "' entry (keys: " + file.metadata().keySet()
                    + "); to read plain weights into a model you built, use ModelFile.loadWeights(model, path)");
        }
        Object doc;
        try {
            doc = Json.parse(json);
        } catch (Json.SyntaxException e) {
            throw new IOException(file.source() + ": the architecture (metadata '" + METADATA_KEY + "') is not valid JSON: " + e.getMessage(), e);
        }
        if (!(doc instanceof Map<?, ?> m)) throw new IOException(file.source() + ": the architecture (metadata '" + METADATA_KEY + "') must be a JSON object");
        if (m.containsKey(CHECKSUM_FIELD) && !file.checksummed()) {
            throw new IOException(file.source() + ": the model document says the file carries a " + m.get(CHECKSUM_FIELD) + " checksum, but its metadata has no '"
                    + Safetensors.CHECKSUM_KEY + "' entry; the file is corrupt or was rewritten by another tool (restore it from a copy or save it again)");
        }
        return cast(m);
    }

    private static List<String> names(Safetensors.File file, Object value, String field) throws IOException {
        if (value == null) return List.of();
        List<String> out = new ArrayList<>();
        if (value instanceof List<?> l) for (Object o : l) if (o instanceof String s) out.add(s);
        if (!(value instanceof List<?> l2) || out.size() != l2.size()) throw new IOException(file.source() + ": field '" + field + "' must be a list of tensor names");
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> m) { return (Map<String, Object>) m; }

}
