package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * A chain of elementwise ops fused by the compiler into one loop. The node's inputs are the
 * chain's external operands (broadcast to {@code shape}); {@code steps} are evaluated in order,
 * each reading external operands (index &lt; inputs) or earlier steps (index - inputs); the last step
 * is the output. Created only by the fusion pass, after autodiff.
 */
public record Fused(List<Step> steps, Shape shape) implements Lowered {
    /** One elementwise op over earlier values (see the class comment for the indexing). */
    public record Step(Elementwise op, List<Integer> args) {
        public Step { args = List.copyOf(args); }
    }

    public Fused { steps = List.copyOf(steps); }

    public String name() {
        StringBuilder sb = new StringBuilder("fused(");
        for (int i = 0; i < steps.size(); i++) { if (i > 0) sb.append(','); sb.append(steps.get(i).op().name()); }
        return sb.append(')').toString();
    }
    public int arity() { return -1; }
    public Shape inferShape(List<Shape> in) {
        for (Shape s : in) {
            Shape b = Shape.broadcastOrNull(s, shape);
            if (b == null || !b.equals(shape)) throw new IllegalArgumentException("fused operand " + s + " does not broadcast to " + shape);
        }
        return shape;
    }
}
