package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * In-place SGD step, as PyTorch's torch.optim.SGD: g' = g + wd·p; v = μ·v + g';
 * d = nesterov ? g' + μ·v : v (or g' when μ = 0); p -= lr·d.
 * Inputs: param, grad, velocity (ignored when μ = 0; pass the param), lr (scalar).
 * Updates param and velocity in place; has no value.
 */
public record SgdUpdate(double momentum, boolean nesterov, double weightDecay) implements Op {
    public String name() { return "sgd_update"; }
    public int arity() { return 4; }
    public boolean isEffect() { return true; }
    public List<Integer> writes() { return List.of(0, 2); }
    public Shape inferShape(List<Shape> in) {
        Shape p = in.get(0);
        if (!in.get(1).equals(p) || !in.get(2).equals(p)) throw new IllegalArgumentException("param, grad and velocity must share a shape, got " + in.subList(0, 3));
        if (in.get(3).size() != 1) throw new IllegalArgumentException("learning rate must be a scalar");
        return Shape.SCALAR;
    }
    public List<Node> gradient(Node out, Node g) { throw new UnsupportedOperationException("an optimizer update has no gradient"); }
}
