package dev.kiln.nn;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Scope;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.optim.Optimizer;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

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
 * Not thread-safe: one model (and its programs) per training thread.
 */
public final class Model {
    private final String name;
    private final List<Symbol> inputs, outputs;
    private final List<Symbol> order = new ArrayList<>();
    private final List<Layer> layers = new ArrayList<>();
    private long seed = 0;
    private boolean built;
    private Optimizer optimizer;
    private List<Loss> losses; // one per output, in output order
    private List<Metric> metrics = List.of();
    private Backend backend;
    private boolean checkNumerics;
    private long iterations;
    private Map<String, Variable> pendingSlots;
    private final Map<String, Executable> programs = new HashMap<>();

    Model(String name, List<Symbol> inputs, List<Symbol> outputs) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        topologicalOrder();
        nameLayers();
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

    private void topologicalOrder() {
        Set<Symbol> seen = new HashSet<>();
        for (Symbol o : outputs) visit(o, seen);
        for (Symbol s : order) {
            if (s.isInput() && !inputs.contains(s)) throw new IllegalArgumentException("the outputs depend on " + s + ", which is not among the model's inputs");
        }
        for (Symbol s : inputs) {
            if (!s.isInput()) throw new IllegalArgumentException(s + " is not an Input");
            if (!seen.contains(s)) throw new IllegalArgumentException("input " + s + " does not reach any output");
        }
    }

    private void visit(Symbol s, Set<Symbol> seen) {
        if (!seen.add(s)) return;
        for (Symbol p : s.parents()) visit(p, seen);
        order.add(s);
        if (!s.isInput() && !layers.contains(s.layer())) layers.add(s.layer());
    }

    private void nameLayers() {
        Set<String> taken = new HashSet<>();
        for (Layer l : layers) if (l instanceof AbstractLayer a && a.hasName() && !taken.add(a.name())) {
            throw new IllegalArgumentException("two layers are named '" + a.name() + "': layer names must be unique within a model");
        }
        Map<String, Integer> counters = new HashMap<>();
        for (Layer l : layers) {
            if (l instanceof AbstractLayer a && !a.hasName()) {
                String base = a.defaultName(), n;
                do {
                    int k = counters.merge(base, 1, Integer::sum) - 1;
                    n = k == 0 ? base : base + "_" + k;
                } while (!taken.add(n));
                a.assignNameIfMissing(n);
            }
        }
    }

    public String name() { return name; }
    public List<Layer> layers() { return List.copyOf(layers); }
    public List<Symbol> inputs() { return inputs; }
    public List<Symbol> outputs() { return outputs; }

    /** The name of input {@code i}: its {@link Input#named} name ("input" unless named). */
    public String inputName(int i) { return inputs.get(i).inputName(); }

    /** The name of output {@code k}: the name of the layer that makes it (Keras's output names), or the input's name for an input passed through. */
    public String outputName(int k) {
        Symbol o = outputs.get(k);
        return o.isInput() ? o.inputName() : o.layer().name();
    }

    /** Every output's name, in output order. */
    public List<String> outputNames() {
        List<String> n = new ArrayList<>();
        for (int k = 0; k < outputs.size(); k++) n.add(outputName(k));
        return n;
    }

    /** Every input's name, in input order. */
    public List<String> inputNames() {
        List<String> n = new ArrayList<>();
        for (Symbol s : inputs) n.add(s.inputName());
        return n;
    }

    public Layer layer(String layerName) {
        for (Layer l : layers) if (l.name().equals(layerName)) return l;
        List<String> names = new ArrayList<>();
        for (Layer l : layers) names.add(l.name());
        throw new IllegalArgumentException("no layer named '" + layerName + "'; layers: " + names);
    }

    /** Seeds weight initialisation and dropout; call before the model is built (before compile or summary). */
    public Model seed(long s) {
        if (built) throw new IllegalStateException("seed(" + s + ") comes too late: the weights of model '" + name + "' already exist; call seed() first");
        this.seed = s;
        return this;
    }

    /** The seed of weight initialisation and dropout (0 unless set). */
    public long seed() { return seed; }

    /** Creates every layer's weights (done on first need: compile, summary, fit, predict). */
    public Model build() {
        if (built) return this;
        SplittableRandom root = new SplittableRandom(seed);
        for (Symbol s : order) {
            if (s.isInput()) continue;
            SplittableRandom r = root.split();
            // merge layers build on their first input's shape; their weights (if any) do not depend on the rest
            s.layer().build(s.parents().get(0).shape(), new BuildContext(r, s.layer().name()));
        }
        built = true;
        return this;
    }

    /** Every weight, in layer order. */
    public List<Variable> weights() {
        build();
        List<Variable> all = new ArrayList<>();
        for (Layer l : layers) all.addAll(l.weights());
        return all;
    }

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
    public List<Tensor> getWeights() { return WeightValues.copies(weights()); }

    /**
     * Sets every weight from values in {@link #getWeights()} order (Keras's {@code set_weights}). The count and
     * each layer's shapes are checked before any weight changes; errors name the layer and both shapes.
     * Compiled programs read weights in place, so the next predict, evaluate or fit step uses the new values.
     */
    public void setWeights(List<Tensor> values) {
        build();
        int total = 0;
        List<String> counts = new ArrayList<>();
        for (Layer l : layers) {
            int n = l.weights().size();
            total += n;
            if (n > 0) counts.add(l.name() + ": " + n);
        }
        if (values.size() != total) {
            throw new IllegalArgumentException("model '" + name + "' has " + total + " weights (" + String.join(", ", counts) + "), got " + values.size()
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

    public List<Variable> trainableWeights() {
        List<Variable> t = new ArrayList<>();
        for (Variable v : weights()) if (v.trainable()) t.add(v);
        return t;
    }

    /** Freezes or unfreezes every layer. */
    public void setTrainable(boolean trainable) {
        build();
        for (Layer l : layers) l.setTrainable(trainable);
        programs.clear();
    }

    /** Sets the optimizer, loss and metrics (Keras's compile) of a model with one output; programs are compiled on first use. */
    public void compile(Optimizer optimizer, Loss loss, Metric... metrics) {
        build();
        if (outputs.size() != 1) {
            throw new IllegalArgumentException("model '" + name + "' has " + outputs.size() + " outputs " + outputNames() + " and compile got one loss; give one per output: compile(optimizer, Map.of(\""
                    + outputName(0) + "\", loss, ...), metrics...)");
        }
        setTraining(optimizer, List.of(loss), metrics);
    }

    /**
     * Sets the optimizer, one loss per output (by output name, as Keras's {@code loss={"out1": ..., "out2": ...}})
     * and metrics, which are computed for every output. The training loss is the sum of the outputs' losses.
     */
    public void compile(Optimizer optimizer, Map<String, Loss> lossPerOutput, Metric... metrics) {
        build();
        List<String> names = outputNames();
        if (new HashSet<>(names).size() != names.size()) {
            throw new IllegalArgumentException("model '" + name + "' has outputs with the same name " + names + "; end each output with its own named layer to give each a loss");
        }
        List<String> missing = new ArrayList<>(), unknown = new ArrayList<>();
        for (String n : names) if (!lossPerOutput.containsKey(n)) missing.add(n);
        for (String n : lossPerOutput.keySet()) if (!names.contains(n)) unknown.add(n);
        if (!missing.isEmpty() || !unknown.isEmpty()) {
            throw new IllegalArgumentException("model '" + name + "' has outputs " + names + "; the losses " + (missing.isEmpty() ? "" : "miss " + missing + (unknown.isEmpty() ? "" : " and "))
                    + (unknown.isEmpty() ? "" : "name no output: " + unknown) + ". Give exactly one loss per output name");
        }
        List<Loss> ls = new ArrayList<>();
        for (String n : names) ls.add(lossPerOutput.get(n));
        setTraining(optimizer, ls, metrics);
    }

    private void setTraining(Optimizer optimizer, List<Loss> ls, Metric... metrics) {
        for (int k = 0; k < ls.size(); k++) ls.get(k).targetShape(outputs.get(k).shape());
        this.optimizer = optimizer;
        this.losses = List.copyOf(ls);
        this.metrics = List.of(metrics);
        programs.clear();
    }

    public Optimizer optimizer() { return optimizer; }

    /** The loss of a model with one output. */
    public Loss loss() {
        requireCompiled();
        if (losses.size() != 1) throw new IllegalStateException("model '" + name + "' has " + losses.size() + " outputs, each with its loss: use losses()");
        return losses.get(0);
    }

    /** The loss of each output, in output order. */
    public List<Loss> losses() { requireCompiled(); return losses; }
    public List<Metric> metrics() { return metrics; }

    /** Optimizer steps taken so far (Adam's t; dropout's step counter). */
    public long iterations() { return iterations; }
    public void setIterations(long t) { iterations = t; }

    /**
     * Optimizer slots (named as the optimizer names them, "dense/kernel/adam_m") whose values are put
     * in place when the compiled optimizer next creates its update ops, i.e. when the next training
     * program is built: this is how a loaded model resumes with the optimizer state it was saved with.
     * The optimizer must make exactly these slots with these shapes, or building the training program
     * fails naming the difference. An empty list drops pending state (the optimizer starts afresh).
     */
    public void restoreOptimizerState(List<Variable> slots) {
        Map<String, Variable> m = new LinkedHashMap<>();
        for (Variable v : slots) m.put(v.name(), v);
        pendingSlots = m.isEmpty() ? null : m;
        programs.clear();
    }

    /** The optimizer state to save: slots waiting to be restored if any, else the optimizer's own (empty before the first training program). */
    public List<Variable> optimizerState() {
        if (pendingSlots != null) return List.copyOf(pendingSlots.values());
        return optimizer == null ? List.of() : optimizer.slots();
    }

    private void applyPendingSlots() {
        if (pendingSlots == null) return;
        Map<String, Variable> made = new LinkedHashMap<>();
        for (Variable v : optimizer.slots()) made.put(v.name(), v);
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>();
        for (String n : pendingSlots.keySet()) if (!made.containsKey(n)) missing.add(n);
        for (String n : made.keySet()) if (!pendingSlots.containsKey(n)) unexpected.add(n);
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalStateException("model '" + name + "' holds saved optimizer state that does not fit " + optimizer.getClass().getSimpleName()
                    + ": saved slots the optimizer does not make: " + missing + "; slots it makes that were not saved: " + unexpected
                    + ". Compile with the optimizer the model was saved with and the same trainable layers, or call restoreOptimizerState(List.of()) to start the optimizer afresh");
        }
        for (Variable saved : pendingSlots.values()) {
            Variable v = made.get(saved.name());
            if (!v.shape().equals(saved.shape())) {
                throw new IllegalStateException("saved optimizer slot '" + saved.name() + "' has shape " + saved.shape() + ", but the optimizer's slot has shape " + v.shape());
            }
        }
        for (Variable saved : pendingSlots.values()) made.get(saved.name()).assign(saved.value());
        pendingSlots = null;
    }

    /** The backend programs run on: {@link Backend#auto()} unless set. */
    public Backend backend() {
        if (backend == null) backend = Backend.auto();
        return backend;
    }

    public Model backend(Backend b) { this.backend = b; programs.clear(); return this; }

    /** Checks every op's output for NaN/Inf in training programs and names the first op that made one. */
    public Model checkNumerics(boolean on) { this.checkNumerics = on; programs.clear(); return this; }

    void requireCompiled() {
        if (losses == null) throw new IllegalStateException("model '" + name + "' is not compiled: call compile(optimizer, loss, metrics...) before fit or evaluate");
    }

    /**
     * Traces the model into a graph: one node per output, from one node per input (each with the
     * batch axis first).
     */
    public List<Node> trace(List<Node> inputNodes, CallContext ctx) {
        build();
        if (inputNodes.size() != inputs.size()) throw new IllegalArgumentException("model '" + name + "' takes " + inputs.size() + " inputs, got " + inputNodes.size());
        Map<Symbol, Node> values = new IdentityHashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            Node in = inputNodes.get(i);
            Shape expected = inputs.get(i).shape();
            Shape given = perExample(in.shape());
            if (!expected.equals(given)) {
                throw new dev.kiln.tensor.ShapeException("model '" + name + "' input " + i + " ('" + inputs.get(i).inputName() + "') expects examples of shape "
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

    static Shape perExample(Shape batched) {
        int[] d = batched.dims();
        return Shape.of(java.util.Arrays.copyOfRange(d, 1, d.length));
    }

    static Shape batched(int batch, Shape perExample) {
        int[] d = new int[perExample.rank() + 1];
        d[0] = batch;
        for (int i = 0; i < perExample.rank(); i++) d[i + 1] = perExample.dim(i);
        return Shape.of(d);
    }

    /** The per-example shape of input {@code i}. */
    public Shape inputShape(int i) { return inputs.get(i).shape(); }

    /** The per-example shape of output {@code i}. */
    public Shape outputShape(int i) { return outputs.get(i).shape(); }

    /** The per-example shape the loss expects for targets (a model with one output). */
    public Shape targetShape() { return loss().targetShape(outputs.get(0).shape()); }

    /** The per-example shape output {@code k}'s loss expects for its targets. */
    public Shape targetShape(int k) { requireCompiled(); return losses.get(k).targetShape(outputs.get(k).shape()); }

    /** The name programs give input {@code i}'s feed ("x" for the one default-named input of a Sequential model). */
    public String programInputName(int i) {
        return inputs.size() == 1 && inputs.get(0).inputName().equals("input") ? "x" : inputs.get(i).inputName();
    }

    /** The name training and evaluation programs give output {@code k}'s targets: "y", or "y/" + the output's name when there are several. */
    public String programTargetName(int k) { return outputs.size() == 1 ? "y" : "y/" + outputName(k); }

    /**
     * The compiled training step for {@code batch} examples. Inputs, fed by name: one per model input
     * ({@link #programInputName}), one target per output ({@link #programTargetName}), "lr", "step".
     * Outputs: the loss, each output's predictions, and with several outputs each output's loss.
     * Effects: optimizer updates and moving statistics.
     */
    public Executable trainingProgram(int batch) {
        return programs.computeIfAbsent("train/" + batch, k -> {
            Traced t = trainingGraph(batch);
            return compileProgram(t.graph(), t.inputs());
        });
    }

    /** A traced graph and its program inputs, in slot order. */
    public record Traced(Graph graph, List<Node> inputs) {}

    /** The uncompiled training step (see {@link #trainingProgram}): for dumps, tests and other backends. */
    public Traced trainingGraph(int batch) {
        requireCompiled();
        if (optimizer == null) throw new IllegalStateException("model '" + name + "' was compiled without an optimizer");
        List<Node> xs = trainingInputNodes(batch);
        List<Node> ys = targetNodes(batch);
        Node lr = Ops.input("lr", Shape.SCALAR), step = Ops.input("step", Shape.SCALAR);
        CallContext ctx = new CallContext(true, step);
        List<Node> preds = trace(xs, ctx);
        List<Node> outs = lossAndPredictions(preds, ys);
        Node lossNode = outs.get(0);
        List<Variable> params = new ArrayList<>();
        List<Node> paramNodes = new ArrayList<>();
        for (Map.Entry<Variable, Node> e : ctx.params().entrySet()) {
            if (e.getKey().trainable()) { params.add(e.getKey()); paramNodes.add(e.getValue()); }
        }
        List<Node> effects = new ArrayList<>(ctx.updates());
        if (!params.isEmpty()) {
            List<Node> grads = Autodiff.gradients(lossNode, paramNodes);
            try (Scope s = Scope.enter("optimizer")) { effects.addAll(optimizer.updates(params, grads, lr, step)); }
        }
        applyPendingSlots();
        List<Node> ins = new ArrayList<>(xs);
        ins.addAll(ys); ins.add(lr); ins.add(step);
        return new Traced(new Graph(outs, effects), ins);
    }

    /** The compiled evaluation step (inference mode). Inputs: as training without lr and step. Outputs: as training. */
    public Executable evaluationProgram(int batch) {
        requireCompiled();
        return programs.computeIfAbsent("eval/" + batch, k -> {
            List<Node> xs = trainingInputNodes(batch);
            List<Node> ys = targetNodes(batch);
            List<Node> outs = lossAndPredictions(trace(xs, new CallContext(false, null)), ys);
            List<Node> ins = new ArrayList<>(xs);
            ins.addAll(ys);
            return compileProgram(new Graph(outs, List.of()), ins);
        });
    }

    /** [total loss, prediction per output..., and with several outputs the loss per output...]: the outputs of training and evaluation programs. */
    private List<Node> lossAndPredictions(List<Node> preds, List<Node> ys) {
        List<Node> perOutput = new ArrayList<>();
        try (Scope s = Scope.enter("loss")) {
            for (int k = 0; k < preds.size(); k++) perOutput.add(losses.get(k).compute(preds.get(k), ys.get(k)));
            Node total = perOutput.get(0);
            for (int k = 1; k < perOutput.size(); k++) total = Ops.add(total, perOutput.get(k));
            List<Node> outs = new ArrayList<>();
            outs.add(total);
            outs.addAll(preds);
            if (preds.size() > 1) outs.addAll(perOutput);
            return outs;
        }
    }

    private List<Node> targetNodes(int batch) {
        List<Node> ys = new ArrayList<>();
        for (int k = 0; k < outputs.size(); k++) ys.add(Ops.input(programTargetName(k), batched(batch, targetShape(k))));
        return ys;
    }

    /** The input nodes of a training or evaluation program, whose other feeds (targets, lr, step) must not take a model input's name. */
    private List<Node> trainingInputNodes(int batch) {
        for (int i = 0; i < inputs.size(); i++) {
            String n = programInputName(i);
            if (n.equals("y") || n.startsWith("y/") || n.equals("lr") || n.equals("step")) {
                throw new IllegalArgumentException("model '" + name + "' has an input named '" + n + "', which training programs use for "
                        + (n.startsWith("y") ? "targets" : n.equals("lr") ? "the learning rate" : "the step counter") + "; rename it with Input.named(...)");
            }
        }
        return inputNodes(batch);
    }

    /** The compiled inference step. Inputs: x₀..xₖ. Outputs: every model output. */
    public Executable predictionProgram(int batch) {
        return programs.computeIfAbsent("predict/" + batch, k -> {
            List<Node> xs = inputNodes(batch);
            List<Node> preds = trace(xs, new CallContext(false, null));
            return compileProgram(new Graph(preds, List.of()), xs);
        });
    }

    private List<Node> inputNodes(int batch) {
        Set<String> names = new HashSet<>();
        for (Symbol s : inputs) {
            if (!names.add(s.inputName())) {
                throw new IllegalArgumentException("model '" + name + "' has two inputs named '" + s.inputName() + "'; name each with Input.named(name, shape...): programs and datasets feed inputs by name");
            }
        }
        List<Node> xs = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) xs.add(Ops.input(programInputName(i), batched(batch, inputs.get(i).shape())));
        return xs;
    }

    private Executable compileProgram(Graph g, List<Node> ins) {
        var opts = Compiler.Options.defaults().withInputs(ins).withCheckNumerics(checkNumerics);
        return backend().compile(Compiler.compile(g, opts));
    }

    /** Drops compiled programs (after changing trainable flags or loading weights of a new shape). */
    public void invalidatePrograms() { programs.clear(); }

    /** Trains the model (Keras's fit): see {@link dev.kiln.train.Fit}. */
    public dev.kiln.train.History fit(dev.kiln.data.Dataset train, dev.kiln.train.Fit fit) {
        requireCompiled();
        return dev.kiln.train.Trainer.fit(this, train, fit);
    }

    /** Loss and metrics on {@code data} in inference mode, e.g. {"loss": 0.31, "accuracy": 0.91}. */
    public Map<String, Double> evaluate(dev.kiln.data.Dataset data, int batchSize) {
        requireCompiled();
        return dev.kiln.train.Trainer.evaluate(this, data, batchSize);
    }

    public Map<String, Double> evaluate(dev.kiln.data.Dataset data) { return evaluate(data, 32); }

    /**
     * Predictions for a dataset's features (targets ignored) by a model with one output; the dataset's
     * inputs feed the model's by name (or its one unnamed input the model's one input).
     */
    public float[] predict(dev.kiln.data.Dataset data) {
        if (outputs.size() != 1) throw new IllegalStateException("model '" + name + "' has " + outputs.size() + " outputs " + outputNames() + "; use predictOutputs(data)");
        return predictOutputs(data).get(outputName(0));
    }

    /** Predictions for a dataset's features, one array per output ([rows, ...outputShape(k)]), by output name in output order. */
    public Map<String, float[]> predictOutputs(dev.kiln.data.Dataset data) {
        build();
        // a flat copy would be cut into examples of the model's size whatever the data's shape, so check it here
        int[] col = dev.kiln.train.Feeds.inputColumns(this, data, "dataset given to predict");
        List<float[]> xs = new ArrayList<>();
        for (int c : col) xs.add(data.features(c));
        List<float[]> ys = predict(xs, 32);
        Map<String, float[]> byName = new LinkedHashMap<>();
        for (int k = 0; k < ys.size(); k++) {
            if (byName.put(outputName(k), ys.get(k)) != null) throw new IllegalStateException("model '" + name + "' has two outputs named '" + outputName(k) + "'; use predict(List<float[]>, batchSize)");
        }
        return byName;
    }

    private String firstLayerName() { return layers.isEmpty() ? "none" : layers.get(0).name() + " (" + layers.get(0).type() + ")"; }

    /** Predictions for {@code rows} examples of a single-input, single-output model, in batches. */
    public float[] predict(float[] x, int batchSize) {
        build();
        if (inputs.size() != 1 || outputs.size() != 1) throw new UnsupportedOperationException("predict(float[]) needs one input and one output; use predict(List<float[]>, ...)");
        return predict(List.of(x), batchSize).get(0);
    }

    /** Predictions for several inputs (each [rows, ...inputShape(i)]), one array per output. */
    public List<float[]> predict(List<float[]> xs, int batchSize) {
        build();
        if (xs.size() != inputs.size()) throw new IllegalArgumentException("model '" + name + "' takes " + inputs.size() + " inputs " + inputNames() + ", got " + xs.size() + " arrays; give one per input, in input order");
        int perIn0 = inputs.get(0).shape().size();
        if (xs.get(0).length % perIn0 != 0) {
            throw new dev.kiln.tensor.ShapeException("predict: input 0 has " + xs.get(0).length + " values, not a whole number of examples of shape " + inputs.get(0).shape()
                    + " (" + perIn0 + " values each; first layer: " + firstLayerName() + ")");
        }
        int rows = xs.get(0).length / perIn0;
        for (int i = 0; i < xs.size(); i++) {
            int per = inputs.get(i).shape().size();
            if (xs.get(i).length != rows * per) {
                throw new dev.kiln.tensor.ShapeException("predict: input " + i + " ('" + inputs.get(i).inputName() + "') expects " + rows + " examples of shape "
                        + inputs.get(i).shape() + " (" + rows * per + " values), got " + xs.get(i).length + " values");
            }
        }
        List<float[]> result = new ArrayList<>();
        for (Symbol o : outputs) result.add(new float[rows * o.shape().size()]);
        for (int start = 0; start < rows; start += batchSize) {
            int n = Math.min(batchSize, rows - start);
            Executable e = predictionProgram(n);
            for (int i = 0; i < xs.size(); i++) {
                int per = inputs.get(i).shape().size();
                e.setInput(e.program().inputSlot(programInputName(i)), xs.get(i), start * per, n * per);
            }
            e.run();
            for (int o = 0; o < outputs.size(); o++) e.readOutput(o, result.get(o), start * outputs.get(o).shape().size());
        }
        return result;
    }

    /** The layer table Keras prints: name (type), output shape, parameter count, and totals. */
    public String summary() { return Summary.of(this); }

    /** The receptive field of every convolution and pooling layer along the model's main path. */
    public List<ReceptiveField> receptiveField() { return Summary.receptiveFields(this); }

    /** Parameter counts: total, trainable. */
    public long[] parameterCounts() {
        long total = 0, trainable = 0;
        for (Variable v : weights()) { total += v.shape().size(); if (v.trainable()) trainable += v.shape().size(); }
        return new long[] {total, trainable};
    }

    List<Symbol> order() { return order; }

    /**
     * Writes the model to one file: architecture, weights, optimizer state and step counter
     * (see {@link dev.kiln.io.ModelFile}); atomic, so a crash leaves the old file or the new one.
     */
    public void save(java.nio.file.Path path) throws java.io.IOException { dev.kiln.io.ModelFile.save(this, path); }

    /**
     * A model rebuilt from a file written by {@link #save}, with its weights, step counter and pending optimizer
     * state; compile it with the optimizer it was trained with to continue {@code fit} exactly.
     */
    public static Model load(java.nio.file.Path path) throws java.io.IOException { return dev.kiln.io.ModelFile.load(path); }

    /** Reads the weights of a model file into this model; names and shapes must match (Keras's load_weights). */
    public void loadWeights(java.nio.file.Path path) throws java.io.IOException { dev.kiln.io.ModelFile.loadWeights(this, path); }

    /** Layer name → config, in order: the architecture part of a model file. */
    public Map<String, Map<String, Object>> configs() {
        Map<String, Map<String, Object>> c = new LinkedHashMap<>();
        for (Layer l : layers) c.put(l.name(), l.config());
        return c;
    }
}
