package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

import static dev.kiln.graph.Ops.*;

/** Softmax (or log-softmax) over the last axis, computed stably (max subtracted). */
public record Softmax(boolean log) implements Primitive {
    public String name() { return log ? "log_softmax" : "softmax"; }
    public int arity() { return 1; }
    public Shape inferShape(List<Shape> in) {
        if (in.get(0).rank() < 1) throw new IllegalArgumentException("softmax needs rank >= 1");
        return in.get(0);
    }
    public List<Node> gradient(Node out, Node g) {
        int last = out.shape().rank() - 1;
        if (log) return List.of(sub(g, mul(exp(out), sum(g, List.of(last), true))));
        return List.of(mul(out, sub(g, sum(mul(g, out), List.of(last), true))));
    }
}
