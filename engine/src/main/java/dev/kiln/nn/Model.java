package dev.kiln.nn;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Precision;
import dev.kiln.data.Dataset;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.optim.Optimizer;
import dev.kiln.optim.SavedSlots;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Feeds;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import dev.kiln.train.Trainable;
import dev.kiln.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model: layers wired from inputs to outputs (built by {@link Sequential#of} or
 * {@link #of(Symbol, Symbol)}), compiled with an optimizer, a loss and metrics, then trained with
 * {@code fit}. Each (batch size, mode) gets one compiled program, reused every step.
 *
 * <pre>{@code
 * model.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy(), Metric.accuracy());
 * History h = model.fit(train, Fit.epochs(10).batchSize(64).validation(test));
 * }</pre>
 *
 * This class is the Keras-facing surface; each job behind it has its own class: the structure and names
 * ({@link Topology}), the weights ({@link ModelWeights}), the compiled programs ({@link Programs}), saved
 * optimizer state ({@link SavedSlots}), batched inference ({@link Prediction}), the training loop
 * ({@link Trainer}) and the file format ({@link ModelFile}).
 *
 * Not thread-safe: one model (and its programs) per training thread.
 */
public final class Model implements Trainable {
    private final Topology topology;
    private final ModelWeights weights;
    private final SavedSlots savedSlots = new SavedSlots();
    private final Programs programs;
    private Optimizer optimizer;
    private List<Loss> losses; // one per output, in output order; null until compiled
    private List<Metric> metrics = List.of();
    private long iterations;

    Model(String name, List<Symbol> inputs, List<Symbol> outputs) {
        this.topology = new Topology(name, inputs, outputs);
        this.weights = new ModelWeights(topology);
        this.programs = new Programs(topology, weights, savedSlots);
    }

    /** A functional model from one input to one output. */
    public static Model of(Symbol input, Symbol output) { return of(List.of(input), List.of(output)); }

    /**
     * A functional model of several inputs and outputs. Name the inputs apart ({@link Input#named}): datasets
     * feed them by name, and several outputs are told apart by their layers' names.
     *
     * <pre>{@code
     * Symbol a = Input.named("a", 3), b = Input.named("b", 5);
     * Symbol out = Dense.of(1).named("out").apply(Concatenate.of().apply(a, b));
     * Model m = Model.of(List.of(a, b), List.of(out));
     * m.fit(Dataset.of(Map.of("a", xa, "b", xb), y), Fit.epochs(5));
     * }</pre>
     */
    public static Model of(List<Symbol> inputs, List<Symbol> outputs) { return new Model("functional", inputs, outputs); }

    // ---------------------------------------------------------------- structure and names

    @Override public String name() { return topology.name(); }
    public List<Layer> layers() { return List.copyOf(topology.layers()); }
    public List<Symbol> inputs() { return topology.inputs(); }
    public List<Symbol> outputs() { return topology.outputs(); }
    List<Symbol> order() { return topology.order(); }

    /** The name of input {@code i}: its {@link Input#named} name ("input" unless named). */
    @Override public String inputName(int i) { return topology.inputs().get(i).inputName(); }
    /** Every input's name, in input order. */
    @Override public List<String> inputNames() { return topology.inputNames(); }
    /** The name of output {@code k}: the name of the layer that makes it (Keras's output names), or the input's name for an input passed through. */
    @Override public String outputName(int k) { return topology.outputName(k); }
    /** Every output's name, in output order. */
    @Override public List<String> outputNames() { return topology.outputNames(); }
    public Layer layer(String layerName) { return topology.layer(layerName); }
    @Override public String firstLayer() { return topology.firstLayer(); }

    /** The per-example shape of input {@code i}. */
    @Override public Shape inputShape(int i) { return topology.inputs().get(i).shape(); }
    /** The per-example shape of output {@code i}. */
    @Override public Shape outputShape(int i) { return topology.outputs().get(i).shape(); }
    /** The per-example shape the loss expects for targets (a model with one output). */
    public Shape targetShape() { return loss().targetShape(outputShape(0)); }
    /** The per-example shape output {@code k}'s loss expects for its targets. */
    @Override public Shape targetShape(int k) { requireCompiled(); return programs.targetShape(k); }
    /** The name programs give input {@code i}'s feed ("x" for the one default-named input of a Sequential model). */
    @Override public String programInputName(int i) { return topology.programInputName(i); }
    /** The name training and evaluation programs give output {@code k}'s targets: "y", or "y/" + the output's name when there are several. */
    @Override public String programTargetName(int k) { return topology.programTargetName(k); }

    // ---------------------------------------------------------------- weights

    /** Seeds weight initialisation and dropout; call before the model is built (before compile or summary). */
    public Model seed(long s) { weights.seed(s); return this; }
    /** The seed of weight initialisation and dropout (0 unless set). */
    public long seed() { return weights.seed(); }
    /** Creates every layer's weights (done on first need: compile, summary, fit, predict). */
    public Model build() { weights.build(); return this; }
    /** Every weight, in layer order. */
    @Override public List<Variable> weights() { return weights.all(); }
    public List<Variable> trainableWeights() { return weights.trainable(); }
    /** Parameter counts: total, trainable. */
    public long[] parameterCounts() { return weights.counts(); }

    /**
     * Copies of every weight, layer by layer in model order and each layer's in build order (Keras's
     * {@code model.get_weights()}); builds the model first.
     *
     * <pre>{@code
     * List<Tensor> saved = model.getWeights();
     * model.fit(train, Fit.epochs(3));
     * model.setWeights(saved);   // back to where it was; the compiled programs see it at once
     * }</pre>
     */
    public List<Tensor> getWeights() { return weights.copies(); }

    /**
     * Sets every weight from values in {@link #getWeights()} order (Keras's {@code set_weights}). The count and
     * each layer's shapes are checked before any weight changes; errors name the layer and both shapes.
     * Compiled programs read weights in place, so the next predict, evaluate or fit step uses the new values.
     */
    public void setWeights(List<Tensor> values) { weights.set(values); }

    /** Freezes or unfreezes every layer. */
    public void setTrainable(boolean trainable) {
        build();
        for (Layer l : topology.layers()) l.setTrainable(trainable);
        programs.clear();
    }

    // ---------------------------------------------------------------- compile settings

    /** Sets the optimizer, loss and metrics (Keras's compile) of a model with one output; programs are compiled on first use. */
    public void compile(Optimizer optimizer, Loss loss, Metric... metrics) { compile(optimizer, loss, null, metrics); }

    /**
     * As {@link #compile(Optimizer, Loss, Metric...)}, with the products in {@code precision} (Keras's mixed-precision
     * policy): {@code compile(Adam.lr(1e-3), loss, Precision.BF16, Metric.accuracy())}. Null: the backend's default.
     */
    public void compile(Optimizer optimizer, Loss loss, Precision precision, Metric... metrics) {
        build();
        if (outputs().size() != 1) {
            throw new IllegalArgumentException("model '" + name() + "' has " + outputs().size() + " outputs " + outputNames() + " and compile got one loss; give one per output: compile(optimizer, Map.of(\""
                    + outputName(0) + "\", loss, ...), metrics...)");
        }
        setTraining(optimizer, List.of(loss), precision, metrics);
    }

    /**
     * Sets the optimizer, one loss per output (by output name, as Keras's {@code loss={"out1": ..., "out2": ...}})
     * and metrics, which are computed for every output. The training loss is the sum of the outputs' losses.
     */
    public void compile(Optimizer optimizer, Map<String, Loss> lossPerOutput, Metric... metrics) { compile(optimizer, lossPerOutput, null, metrics); }

    /** As {@link #compile(Optimizer, Map, Metric...)}, with the products in {@code precision} (null: the backend's default). */
    public void compile(Optimizer optimizer, Map<String, Loss> lossPerOutput, Precision precision, Metric... metrics) {
        build();
        List<String> names = outputNames();
        if (new HashSet<>(names).size() != names.size()) {
            throw new IllegalArgumentException("model '" + name() + "' has outputs with the same name " + names + "; end each output with its own named layer to give each a loss");
        }
        List<String> missing = new ArrayList<>(), unknown = new ArrayList<>();
        for (String n : names) if (!lossPerOutput.containsKey(n)) missing.add(n);
        for (String n : lossPerOutput.keySet()) if (!names.contains(n)) unknown.add(n);
        if (!missing.isEmpty() || !unknown.isEmpty()) {
            throw new IllegalArgumentException("model '" + name() + "' has outputs " + names + "; the losses " + (missing.isEmpty() ? "" : "miss " + missing + (unknown.isEmpty() ? "" : " and "))
                    + (unknown.isEmpty() ? "" : "name no output: " + unknown) + ". Give exactly one loss per output name");
        }
        List<Loss> ls = new ArrayList<>();
        for (String n : names) ls.add(lossPerOutput.get(n));
        setTraining(optimizer, ls, precision, metrics);
    }

    private void setTraining(Optimizer optimizer, List<Loss> ls, Precision precision, Metric... metrics) {
        for (int k = 0; k < ls.size(); k++) ls.get(k).targetShape(outputShape(k));
        this.optimizer = optimizer;
        this.losses = List.copyOf(ls);
        this.metrics = List.of(metrics);
        programs.training(optimizer, losses, precision);
    }

    /** What products compute in: the precision given to compile, else the backend's default (F32 on the CPU, TF32 on a GPU). */
    public Precision precision() { return programs.precision(); }
    /** The dynamic loss scale training uses (FP16's by default; null when it does not scale). */
    public LossScale lossScale() { return programs.lossScale(); }
    /** Sets the loss scale: FP16's own, or turns scaling on for another precision. */
    public Model lossScale(LossScale s) { programs.lossScale(s); return this; }
    @Override public Optimizer optimizer() { return optimizer; }
    @Override public boolean scalesLoss() { return lossScale() != null; }

    /** The loss of a model with one output. */
    public Loss loss() {
        requireCompiled();
        if (losses.size() != 1) throw new IllegalStateException("model '" + name() + "' has " + losses.size() + " outputs, each with its loss: use losses()");
        return losses.get(0);
    }

    /** The loss of each output, in output order. */
    @Override public List<Loss> losses() { requireCompiled(); return losses; }
    @Override public List<Metric> metrics() { return metrics; }

    /** Optimizer steps taken so far (Adam's t; dropout's step counter). */
    @Override public long iterations() { return iterations; }
    @Override public void setIterations(long t) { iterations = t; }

    /**
     * Optimizer slots (named as the optimizer names them, "dense/kernel/adam_m") whose values are put
     * in place when the compiled optimizer next creates its update ops, i.e. when the next training
     * program is built: this is how a loaded model resumes with the optimizer state it was saved with.
     * The optimizer must make exactly these slots with these shapes, or building the training program
     * fails naming the difference. An empty list drops pending state (the optimizer starts afresh).
     */
    public void restoreOptimizerState(List<Variable> slots) {
        savedSlots.hold(slots);
        programs.clear();
    }

    /** The optimizer state to save: slots waiting to be restored if any, else the optimizer's own (empty before the first training program). */
    public List<Variable> optimizerState() {
        List<Variable> pending = savedSlots.pending();
        if (pending != null) return pending;
        return optimizer == null ? List.of() : optimizer.slots();
    }

    void requireCompiled() {
        if (losses == null) throw new IllegalStateException("model '" + name() + "' is not compiled: call compile(optimizer, loss, metrics...) before fit or evaluate");
    }

    // ---------------------------------------------------------------- programs

    /** The backend programs run on: {@link Backend#auto()} unless set. */
    public Backend backend() { return programs.backend(); }
    public Model backend(Backend b) { programs.backend(b); return this; }
    /** Checks every op's output for NaN/Inf in training programs and names the first op that made one. */
    public Model checkNumerics(boolean on) { programs.checkNumerics(on); return this; }
    /** Drops compiled programs (after changing trainable flags or loading weights of a new shape). */
    public void invalidatePrograms() { programs.clear(); }

    /**
     * Traces the model into a graph: one node per output, from one node per input (each with the
     * batch axis first).
     */
    public List<Node> trace(List<Node> inputNodes, CallContext ctx) {
        build();
        return topology.trace(inputNodes, ctx);
    }

    /** A traced graph and its program inputs, in slot order. */
    public record Traced(Graph graph, List<Node> inputs) {}

    /**
     * The compiled training step for {@code batch} examples. Inputs, fed by name: one per model input
     * ({@link #programInputName}), one target per output ({@link #programTargetName}), "lr", "step".
     * Outputs: the loss, each output's predictions, and with several outputs each output's loss.
     * Effects: optimizer updates and moving statistics.
     */
    @Override public Executable trainingProgram(int batch) { requireCompiled(); return programs.training(batch); }
    /** The uncompiled training step (see {@link #trainingProgram}): for dumps, tests and other backends. */
    public Traced trainingGraph(int batch) { requireCompiled(); return programs.trainingGraph(batch); }
    /**
     * The training step's first half, for data-parallel training: forward, loss and gradients, no optimizer update.
     * Inputs as {@link #trainingProgram} without "lr". Outputs: as training, then the gradient of each weight of
     * {@link #gradientWeights}, in that order. Run {@link #applyGradientsProgram} with the (averaged) gradients after it.
     */
    public Executable gradientProgram(int batch) { requireCompiled(); return programs.gradients(batch); }
    /** The trainable weights whose gradients {@link #gradientProgram} returns, in its output order. */
    public List<Variable> gradientWeights() { requireCompiled(); return programs.gradientWeights(); }
    /** The training step's second half: the optimizer's updates. Inputs "grad/i" (shape of gradientWeights().get(i)), "lr", "step". */
    public Executable applyGradientsProgram() { requireCompiled(); return programs.applyGradients(); }

    /** The compiled training step for batches of {@code batch} as a {@link dev.kiln.compile.Program} (print it with {@code dump()}, draw it with {@code dump(path)}), in the precision given to compile (F32 if none: a plan needs no backend). */
    public dev.kiln.compile.Program trainingPlan(int batch) {
        Traced t = trainingGraph(batch);
        return dev.kiln.compile.Compiler.compile(t.graph(), dev.kiln.compile.Compiler.Options.defaults().withInputs(t.inputs()).withPrecision(programs.givenPrecision()));
    }
    /** The compiled evaluation step (inference mode). Inputs: as training without lr and step. Outputs: as training. */
    @Override public Executable evaluationProgram(int batch) { requireCompiled(); return programs.evaluation(batch); }
    /** The compiled inference step. Inputs: x₀..xₖ. Outputs: every model output. */
    public Executable predictionProgram(int batch) { return programs.prediction(batch); }
    /**
     * A new inference program for {@code batch} examples, owned by the caller (close it to free its memory): what
     * {@link #predictionProgram} compiles, but never cached or shared, so each thread may run its own. The weights
     * are shared and read in place. Not thread-safe itself: compile from one thread at a time.
     */
    public Executable newPredictionProgram(int batch) { return programs.newPrediction(batch); }

    // ---------------------------------------------------------------- Keras's fit, evaluate, predict

    /** Trains the model (Keras's fit): see {@link Fit}. */
    public History fit(Dataset train, Fit fit) { requireCompiled(); return Trainer.fit(this, train, fit); }

    /** Loss and metrics on {@code data} in inference mode, e.g. {"loss": 0.31, "accuracy": 0.91}. */
    public Map<String, Double> evaluate(Dataset data, int batchSize) { requireCompiled(); return Trainer.evaluate(this, data, batchSize); }

    public Map<String, Double> evaluate(Dataset data) { return evaluate(data, 32); }

    /**
     * Predictions for a dataset's features (targets ignored) by a model with one output; the dataset's
     * inputs feed the model's by name (or its one unnamed input the model's one input).
     */
    public float[] predict(Dataset data) {
        if (outputs().size() != 1) throw new IllegalStateException("model '" + name() + "' has " + outputs().size() + " outputs " + outputNames() + "; use predictOutputs(data)");
        return predictOutputs(data).get(outputName(0));
    }

    /** Predictions for a dataset's features, one array per output ([rows, ...outputShape(k)]), by output name in output order. */
    public Map<String, float[]> predictOutputs(Dataset data) {
        build();
        // a flat copy would be cut into examples of the model's size whatever the data's shape, so check it here
        int[] col = Feeds.inputColumns(this, data, "dataset given to predict");
        List<float[]> xs = new ArrayList<>();
        for (int c : col) xs.add(data.features(c));
        List<float[]> ys = predict(xs, 32);
        Map<String, float[]> byName = new LinkedHashMap<>();
        for (int k = 0; k < ys.size(); k++) {
            if (byName.put(outputName(k), ys.get(k)) != null) throw new IllegalStateException("model '" + name() + "' has two outputs named '" + outputName(k) + "'; use predict(List<float[]>, batchSize)");
        }
        return byName;
    }

    /** Predictions for {@code rows} examples of a single-input, single-output model, in batches. */
    @Override public float[] predict(float[] x, int batchSize) {
        build();
        if (inputs().size() != 1 || outputs().size() != 1) throw new UnsupportedOperationException("predict(float[]) needs one input and one output; use predict(List<float[]>, ...)");
        return predict(List.of(x), batchSize).get(0);
    }

    /** Predictions for several inputs (each [rows, ...inputShape(i)]), one array per output. */
    public List<float[]> predict(List<float[]> xs, int batchSize) {
        build();
        return Prediction.run(topology, programs, xs, batchSize);
    }

    // ---------------------------------------------------------------- summary and files

    /** The layer table Keras prints: name (type), output shape, parameter count, and totals. */
    public String summary() { return Summary.of(this); }

    /** One line for a REPL: name, layer count and weights; {@link #summary} has the table. */
    @Override public String toString() {
        long[] c = parameterCounts();
        return "Model(\"" + name() + "\", " + layers().size() + " layers, " + String.format(java.util.Locale.ROOT, "%,d", c[0]) + " weights)";
    }

    /**
     * Draws the layer graph, with the shape on every edge ({@link ModelPlot}): PNG or SVG by the
     * path's ending when Graphviz's {@code dot} is installed, DOT text for {@code .dot} or when it is
     * not (then beside the path, with a note). Returns the file written.
     */
    public Path plot(Path path) throws IOException { return dev.kiln.io.Graphviz.write(plotDot(), path); }

    /** The DOT text {@link #plot} draws. */
    public String plotDot() { return ModelPlot.dot(this); }

    /** The receptive field of every convolution and pooling layer along the model's main path. */
    public List<ReceptiveField> receptiveField() { return Summary.receptiveFields(this); }

    /**
     * Writes the model to one file: architecture, weights, optimizer state and step counter
     * (see {@link ModelFile}); atomic, so a crash leaves the old file or the new one.
     */
    @Override public void save(Path path) throws IOException { ModelFile.save(this, path); }

    /**
     * A model rebuilt from a file written by {@link #save}, with its weights, step counter and pending optimizer
     * state; compile it with the optimizer it was trained with to continue {@code fit} exactly.
     */
    public static Model load(Path path) throws IOException { return ModelFile.load(path); }

    /** Reads the weights of a model file into this model; names and shapes must match (Keras's load_weights). */
    public void loadWeights(Path path) throws IOException { ModelFile.loadWeights(this, path); }

    /** Layer name → config, in order: the architecture part of a model file. */
    public Map<String, Map<String, Object>> configs() {
        Map<String, Map<String, Object>> c = new LinkedHashMap<>();
        for (Layer l : topology.layers()) c.put(l.name(), l.config());
        return c;
    }
}
