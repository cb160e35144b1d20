package dev.kiln.compile;

import dev.kiln.tensor.Shape;

/**
 * Where a value lives during a run: at {@code offset} (in floats) inside the step's arena, or in
 * program input {@code index}, variable {@code index} or constant {@code index}. Reshapes are views:
 * they share a slot's storage and offset under another shape.
 */
public record Slot(Storage storage, int index, int offset, Shape shape) {
    public enum Storage { ARENA, INPUT, VARIABLE, CONSTANT }

    public int size() { return shape.size(); }

    public Slot withShape(Shape s) { return new Slot(storage, index, offset, s); }

    @Override public String toString() {
        return switch (storage) {
            case ARENA -> "arena[" + offset + ".." + (offset + size()) + ")";
            case INPUT -> "in" + index;
            case VARIABLE -> "var" + index;
            case CONSTANT -> "const" + index;
        } + shape;
    }
}
