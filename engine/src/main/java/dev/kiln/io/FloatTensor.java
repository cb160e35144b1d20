package dev.kiln.io;

import dev.kiln.tensor.Shape;

/**
 * A host tensor of float32 values in row-major order, as read from or written to a model file.
 * The array is not copied: whoever holds the record may read it, and the producer must not change it after.
 *
 * <pre>{@code new FloatTensor(Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, 6}) }</pre>
 */
public record FloatTensor(Shape shape, float[] data) {
    public FloatTensor {
        if (shape == null || data == null) throw new NullPointerException("shape and data are required");
        if (data.length != shape.size()) throw new IllegalArgumentException("shape " + shape + " holds " + shape.size() + " values, but the data has " + data.length);
    }
}
