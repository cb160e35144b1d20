package dev.kiln.nn;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Precision;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Scope;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.optim.Optimizer;
import dev.kiln.optim.SavedSlots;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.kiln.nn.Topology.batched;

/**
 * A model's compiled programs, one per (mode, batch size), traced and compiled on first use and kept:
 * the training step (forward, loss, gradients, optimizer updates), the evaluation step and the inference
 * step. Whatever changes a program — compile settings, trainable flags, backend, numerics checks —
 * clears the cache.
 */
final class Programs {
    private final Topology topology;
    private final ModelWeights weights;
    private final SavedSlots savedSlots;
    private final Map<String, Executable> cache = new HashMap<>();
    private Backend backend;
    private boolean checkNumerics;
    private Optimizer optimizer;
    private List<Loss> losses; // one per output, in output order
    private Precision precision;   // null: the backend's default
    private LossScale lossScale;   // null: made on first need when the precision scales

    Programs(Topology topology, ModelWeights weights, SavedSlots savedSlots) {
        this.topology = topology;
        this.weights = weights;
        this.savedSlots = savedSlots;
    }

    void training(Optimizer optimizer, List<Loss> losses, Precision precision) {
        this.optimizer = optimizer;
        this.losses = losses;
        this.precision = precision;
        cache.clear();
    }

    /** The precision given to compile, else the backend's default. */
    Precision precision() { return precision != null ? precision : backend().defaultPrecision(); }

    /** The precision given to compile, else F32: what a backend-independent plan uses. */
    Precision givenPrecision() { return precision != null ? precision : Precision.F32; }

    /** The model's loss scale: the one set, else (for a precision that scales) a {@link LossScale#dynamic()} one; null when training does not scale. */
    LossScale lossScale() {
        // only a precision given to compile scales (a backend's default is F32 or TF32): asking needs no backend
        if (lossScale == null && precision != null && precision.lossScaling()) lossScale = LossScale.dynamic();
        return lossScale;
    }

    void lossScale(LossScale s) { lossScale = s; cache.clear(); }

    void clear() { cache.clear(); }

    Backend backend() {
        if (backend == null) backend = Backend.auto();
        return backend;
    }

    void backend(Backend b) { backend = b; cache.clear(); }
    void checkNumerics(boolean on) { checkNumerics = on; cache.clear(); }

    Shape targetShape(int k) { return losses.get(k).targetShape(topology.outputs().get(k).shape()); }

    Executable training(int batch) {
        return cache.computeIfAbsent("train/" + batch, k -> {
            Model.Traced t = trainingGraph(batch);
            return compile(t.graph(), t.inputs());
        });
    }

    Model.Traced trainingGraph(int batch) {
        if (optimizer == null) throw new IllegalStateException("model '" + topology.name() + "' was compiled without an optimizer");
        weights.build();
        List<Node> xs = trainingInputNodes(batch);
        List<Node> ys = targetNodes(batch);
        Node lr = Ops.input("lr", Shape.SCALAR), step = Ops.input("step", Shape.SCALAR);
        CallContext ctx = new CallContext(true, step);
        List<Node> outs = lossAndPredictions(topology.trace(xs, ctx), ys);
        List<Variable> params = new ArrayList<>();
        List<Node> paramNodes = new ArrayList<>();
        for (Variable v : traced(ctx)) { params.add(v); paramNodes.add(ctx.params().get(v)); }
        List<Node> effects = new ArrayList<>(ctx.updates());
        if (!params.isEmpty()) effects.addAll(updates(params, gradients(outs.get(0), paramNodes), lr, step));
        savedSlots.applyTo(optimizer, topology.name());
        List<Node> ins = new ArrayList<>(xs);
        ins.addAll(ys); ins.add(lr); ins.add(step);
        return new Model.Traced(new Graph(outs, effects), ins);
    }

    /**
     * The training step split in two, for data-parallel training (gradients averaged across replicas between the
     * halves): the gradient program (inputs as training; outputs [loss, predictions..., per-output losses...,
     * then the gradient of each trainable weight in {@link #gradientWeights} order]; effects: the layers' own
     * updates such as moving statistics, never the optimizer's). With a loss scale the gradients are those of the scaled
     * loss, unscaled (infinite or NaN where they overflowed); {@link #applyGradients} makes the finite check on what it
     * is given, so after an average every replica sees the same non-finite values and skips the same step.
     */
    Executable gradients(int batch) {
        return cache.computeIfAbsent("grad/" + batch, k -> {
            if (optimizer == null) throw new IllegalStateException("model '" + topology.name() + "' was compiled without an optimizer");
            weights.build();
            List<Node> xs = trainingInputNodes(batch);
            List<Node> ys = targetNodes(batch);
            Node step = Ops.input("step", Shape.SCALAR);
            CallContext ctx = new CallContext(true, step);
            List<Node> outs = lossAndPredictions(topology.trace(xs, ctx), ys);
            List<Node> paramNodes = new ArrayList<>();
            for (Variable v : traced(ctx)) paramNodes.add(ctx.params().get(v));
            outs.addAll(gradients(outs.get(0), paramNodes));
            List<Node> ins = new ArrayList<>(xs);
            ins.addAll(ys); ins.add(step);
            return compile(new Graph(outs, ctx.updates()), ins);
        });
    }

    // With a loss scale, all of GradScaler in the graph (LossScale): the scaled loss's gradients, unscaled; the finite
    // flag over the gradients the updates get, the updates run only where it is 1, then the scale's own update.

    /** The gradients of {@code loss} with respect to {@code params}: of the scaled loss, unscaled, when the model scales. */
    private List<Node> gradients(Node loss, List<Node> params) {
        LossScale scale = lossScale();
        return scale == null ? Autodiff.gradients(loss, params) : scale.unscale(Autodiff.gradients(scale.scaleLoss(loss), params));
    }

    /** The optimizer's updates of {@code params} by {@code grads}; when the model scales, conditional on all being finite, then the scale's update. */
    private List<Node> updates(List<Variable> params, List<Node> grads, Node lr, Node step) {
        LossScale scale = lossScale();
        Node finite = scale == null ? null : LossScale.allFinite(grads);
        List<Node> effects = new ArrayList<>();
        try (Scope s = Scope.enter("optimizer")) { effects.addAll(optimizer.updates(params, grads, lr, step, finite)); }
        if (scale != null) try (Scope s = Scope.enter("loss_scale")) { effects.addAll(scale.updates(finite)); }
        return effects;
    }

    /** The trainable weights whose gradients {@link #gradients(int)} returns, in its output order. */
    List<Variable> gradientWeights() {
        weights.build();
        CallContext ctx = new CallContext(true, Ops.input("step", Shape.SCALAR));
        topology.trace(trainingInputNodes(1), ctx);
        return traced(ctx);
    }

    /** The trainable weights a trace read, in the model's weight order. */
    private List<Variable> traced(CallContext ctx) {
        List<Variable> params = new ArrayList<>();
        for (Variable v : weights.trainable()) if (ctx.params().containsKey(v)) params.add(v);
        return params;
    }

    /**
     * The other half: the optimizer's updates from given gradients. Inputs "grad/0".. (each weight's shape), "lr", "step";
     * no outputs. With a loss scale, as the one training step: the updates apply only where every given gradient is
     * finite, and the scale's own update follows.
     */
    Executable applyGradients() {
        return cache.computeIfAbsent("apply", k -> {
            if (optimizer == null) throw new IllegalStateException("model '" + topology.name() + "' was compiled without an optimizer");
            weights.build();
            List<Variable> params = gradientWeights();
            List<Node> grads = new ArrayList<>();
            for (int i = 0; i < params.size(); i++) grads.add(Ops.input("grad/" + i, params.get(i).shape()));
            Node lr = Ops.input("lr", Shape.SCALAR), step = Ops.input("step", Shape.SCALAR);
            List<Node> effects = updates(params, grads, lr, step);
            savedSlots.applyTo(optimizer, topology.name());
            List<Node> ins = new ArrayList<>(grads);
            ins.add(lr); ins.add(step);
            return compile(new Graph(List.of(), effects), ins);
        });
    }

    Executable evaluation(int batch) {
        return cache.computeIfAbsent("eval/" + batch, k -> {
            weights.build();
            List<Node> xs = trainingInputNodes(batch);
            List<Node> ys = targetNodes(batch);
            List<Node> outs = lossAndPredictions(topology.trace(xs, new CallContext(false, null)), ys);
            List<Node> ins = new ArrayList<>(xs);
            ins.addAll(ys);
            return compile(new Graph(outs, List.of()), ins);
        });
    }

    Executable prediction(int batch) {
        return cache.computeIfAbsent("predict/" + batch, k -> newPrediction(batch));
    }

    /** An inference program of its own (not cached, not shared): one per thread that runs inference concurrently. */
    Executable newPrediction(int batch) {
        weights.build();
        List<Node> xs = inputNodes(batch);
        return compile(new Graph(topology.trace(xs, new CallContext(false, null)), List.of()), xs);
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
        for (int k = 0; k < topology.outputs().size(); k++) ys.add(Ops.input(topology.programTargetName(k), batched(batch, targetShape(k))));
        return ys;
    }

    /** The input nodes of a training or evaluation program, whose other feeds (targets, lr, step) must not take a model input's name. */
    private List<Node> trainingInputNodes(int batch) {
        for (int i = 0; i < topology.inputs().size(); i++) {
            String n = topology.programInputName(i);
            if (n.equals("y") || n.startsWith("y/") || n.equals("lr") || n.equals("step")) {
                throw new IllegalArgumentException("model '" + topology.name() + "' has an input named '" + n + "', which training programs use for "
                        + (n.startsWith("y") ? "targets" : n.equals("lr") ? "the learning rate" : "the step counter") + "; rename it with Input.named(...)");
            }
        }
        return inputNodes(batch);
    }

    private List<Node> inputNodes(int batch) {
        Set<String> names = new HashSet<>();
        for (Symbol s : topology.inputs()) {
            if (!names.add(s.inputName())) {
                throw new IllegalArgumentException("model '" + topology.name() + "' has two inputs named '" + s.inputName()
                        + "'; name each with Input.named(name, shape...): programs and datasets feed inputs by name");
            }
        }
        List<Node> xs = new ArrayList<>();
        for (int i = 0; i < topology.inputs().size(); i++) xs.add(Ops.input(topology.programInputName(i), batched(batch, topology.inputs().get(i).shape())));
        return xs;
    }

    private Executable compile(Graph g, List<Node> ins) {
        var opts = Compiler.Options.defaults().withPasses(backend().passes()).withInputs(ins).withCheckNumerics(checkNumerics).withPrecision(precision());
        return backend().compile(Compiler.compile(g, opts));
    }
}
