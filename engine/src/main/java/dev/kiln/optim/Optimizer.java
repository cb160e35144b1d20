package dev.kiln.optim;

import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;

import java.util.List;

/**
 * Turns gradients into in-place update ops (graph effects), so that updates compile, fuse and
 * stay where the weights live. The learning rate and the step counter are scalar nodes
 * (normally program inputs), so schedules change them without recompiling.
 *
 * <p>Every optimizer is an {@link AbstractOptimizer}: the learning-rate check, the slot table,
 * gradient clipping and its withers live there once; an optimizer writes only its per-parameter
 * update. When that update is one fused op and when it is composed of ops is written down in
 * {@code package-info.java} of this package.
 *
 * <pre>{@code Optimizer opt = Adam.lr(1e-3).clipNorm(1.0); }</pre>
 */
public sealed interface Optimizer permits AbstractOptimizer {
    /** The base learning rate a trainer feeds (schedules scale it). */
    double learningRate();

    /**
     * One update effect (or more) per parameter; optimizer state (slots) is created on first use
     * and kept. The gradients are first clipped as {@link #clipping()} says.
     */
    default List<Node> updates(List<Variable> params, List<Node> grads, Node lr, Node step) { return updates(params, grads, lr, step, null); }

    /**
     * As {@link #updates(List, List, Node, Node)}, each effect conditional on the scalar {@code apply}: where it is 0
     * no weight and no slot changes (dynamic loss scaling's skipped step, decided on the device). Null: unconditional.
     */
    List<Node> updates(List<Variable> params, List<Node> grads, Node lr, Node step, Node apply);

    /** Every slot variable created so far, in creation order (for saving and resuming). */
    List<Variable> slots();

    /** Gradient clipping applied inside {@link #updates} ({@link GradientClipping#NONE} unless set by a wither). */
    GradientClipping clipping();
}
