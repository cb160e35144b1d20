package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * In-place assignment of a value to a variable, run with the other effects after every value is
 * computed (moving statistics of batch normalisation use it). Inputs: target (a Param), value.
 */
public record Assign() implements Effect {
    public String name() { return "assign"; }
    public int arity() { return 2; }
    public List<Integer> writes() { return List.of(0); }
    public Shape inferShape(List<Shape> in) {
        if (!in.get(0).equals(in.get(1))) throw new IllegalArgumentException("cannot assign a value of shape " + in.get(1) + " to a variable of shape " + in.get(0));
        return Shape.SCALAR;
    }
}
