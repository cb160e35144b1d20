package dev.kiln.nn;

import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One trace of a model into a graph: training or inference, the step counter node (dropout draws
 * a new mask per step from it), the one param node per variable (so gradients can be taken with
 * respect to it), and the in-place updates layers ask for (moving statistics).
 */
public final class CallContext {
    private final boolean training;
    private final Node step;
    // in the order the trace read them (Variable has identity equality): an identity map iterated in an order that
    // differed between JVMs, and the training program's updates were built in that order
    private final Map<Variable, Node> params = new LinkedHashMap<>();
    private final List<Node> updates = new ArrayList<>();

    public CallContext(boolean training, Node step) {
        this.training = training;
        this.step = step;
    }

    public boolean training() { return training; }

    /** The scalar step counter (a program input); null in inference traces. */
    public Node step() {
        if (step == null) throw new IllegalStateException("this trace has no step counter (inference)");
        return step;
    }

    /** The node that reads {@code v} in this trace; the same node every time. */
    public Node read(Variable v) { return params.computeIfAbsent(v, Ops::param); }

    /** Nodes for every variable read so far, in the order they were first read. */
    public Map<Variable, Node> params() { return params; }

    /** Registers an in-place update (an effect node) to run at the end of the step. */
    public void addUpdate(Node effect) { updates.add(effect); }

    public List<Node> updates() { return updates; }
}
