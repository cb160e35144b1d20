package dev.kiln.graph;

import dev.kiln.tensor.DType;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One value in a graph: an op applied to input nodes. Immutable; shape and dtype are inferred at
 * construction, so a mismatch fails where the user built the graph, with both shapes, the op and
 * the call site in the message.
 */
public final class Node {
    private static final AtomicLong IDS = new AtomicLong();
    private static final StackWalker WALKER = StackWalker.getInstance();

    private final long id;
    private final Op op;
    private final List<Node> inputs;
    private final Shape shape;
    private final DType dtype;
    private final String site;
    private final String label;

    Node(Op op, List<Node> inputs) { this(op, inputs, null); }

    /** A node that stands in for {@code origin} (a compiler rewrite): it keeps origin's scope and call site. */
    Node(Op op, List<Node> inputs, Node origin) {
        this.id = IDS.incrementAndGet();
        this.op = op;
        this.inputs = List.copyOf(inputs);
        this.label = origin != null ? origin.label : Scope.current();
        this.site = origin != null ? origin.site : callSite();
        if (op.arity() >= 0 && inputs.size() != op.arity()) {
            throw new ShapeException(describeFailure(op, inputs, op.name() + " takes " + op.arity() + " inputs, got " + inputs.size()));
        }
        List<Shape> shapes = new ArrayList<>(inputs.size());
        for (Node n : inputs) {
            if (n.op instanceof Effect) throw new ShapeException(describeFailure(op, inputs, "an in-place update (" + n.op.name() + ") has no value to read"));
            if (n.dtype != DType.F32) throw new ShapeException(describeFailure(op, inputs, "input dtype " + n.dtype + " is not F32"));
            shapes.add(n.shape);
        }
        try {
            this.shape = op.inferShape(shapes);
        } catch (IllegalArgumentException e) {
            throw new ShapeException(describeFailure(op, inputs, e.getMessage()));
        }
        this.dtype = DType.F32;
    }

    private String describeFailure(Op op, List<Node> inputs, String why) {
        StringBuilder sb = new StringBuilder(op.name()).append(": ").append(why).append(" (input shapes ");
        for (int i = 0; i < inputs.size(); i++) { if (i > 0) sb.append(", "); sb.append(inputs.get(i).shape); }
        sb.append(")");
        if (label != null) sb.append(" in ").append(label);
        if (site != null) sb.append(" at ").append(site);
        return sb.toString();
    }

    /** The first stack frame outside Kiln's engine: where the user asked for this node. */
    private static String callSite() {
        return WALKER.walk(frames -> frames
                .filter(f -> !isEngineFrame(f.getClassName()))
                .findFirst()
                .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName()
                        + "(" + f.getFileName() + ":" + f.getLineNumber() + ")")
                .orElse(null));
    }

    private static boolean isEngineFrame(String cls) {
        if (!cls.startsWith("dev.kiln.")) return cls.startsWith("java.") || cls.startsWith("jdk.");
        return !cls.endsWith("Test") && !cls.contains("Test$") && !cls.startsWith("dev.kiln.examples.");
    }

    public long id() { return id; }
    public Op op() { return op; }
    public List<Node> inputs() { return inputs; }
    public Node input(int i) { return inputs.get(i); }
    public Shape shape() { return shape; }
    public DType dtype() { return dtype; }
    /** Where the node was created ("MyModel.build(MyModel.java:42)"), or null. */
    public String site() { return site; }
    /** The scope (layer) that created the node, or null. */
    public String label() { return label; }

    /** "#12 matmul [64, 10]" plus its scope and call site: for error messages. */
    public String describe() {
        StringBuilder sb = new StringBuilder("#").append(id).append(' ').append(op.name()).append(' ').append(shape);
        if (label != null) sb.append(" in ").append(label);
        if (site != null) sb.append(" at ").append(site);
        return sb.toString();
    }

    @Override public String toString() { return "#" + id + " " + op.name() + shape; }
}
