package dev.kiln.compile;

import dev.kiln.graph.Node;
import dev.kiln.graph.Op;

import java.util.List;

/**
 * One kernel call of a {@link Program}: {@code op} reads {@code inputs} and writes {@code output}
 * (for in-place updates, {@code output} is null and the variables among the inputs are written).
 */
public record Instruction(Node node, List<Slot> inputs, Slot output) {
    public Instruction { inputs = List.copyOf(inputs); }

    public Op op() { return node.op(); }
}
