package dev.kiln.tensor;

/** A shape or dtype that does not fit an op; the message names the shapes, the op and where it was built. */
public class ShapeException extends IllegalArgumentException {
    public ShapeException(String message) { super(message); }
}
