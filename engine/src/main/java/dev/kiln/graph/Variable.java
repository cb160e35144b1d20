package dev.kiln.graph;

import dev.kiln.tensor.Shape;

/**
 * A named, mutable f32 tensor that outlives steps: a weight, a moving statistic or an optimizer
 * slot. This is one of the few mutable places in the engine: compiled programs read it and
 * optimizer updates write it in place. Identity, not value, makes two variables equal.
 */
public final class Variable {
    private final String name;
    private final Shape shape;
    private final float[] value;
    private boolean trainable;
    private int version;

    public Variable(String name, Shape shape, float[] value, boolean trainable) {
        if (value.length != shape.size()) throw new IllegalArgumentException("variable " + name + " of shape " + shape + " needs " + shape.size() + " values, got " + value.length);
        this.name = name;
        this.shape = shape;
        this.value = value;
        this.trainable = trainable;
    }

    public static Variable zeros(String name, Shape shape) { return new Variable(name, shape, new float[shape.size()], false); }

    public String name() { return name; }
    public Shape shape() { return shape; }
    /** The live storage, read and written by programs on the CPU. */
    public float[] value() { return value; }
    public boolean trainable() { return trainable; }
    public void setTrainable(boolean t) { trainable = t; }

    public void assign(float[] src) {
        if (src.length != value.length) throw new IllegalArgumentException("variable " + name + " of shape " + shape + " cannot take " + src.length + " values");
        System.arraycopy(src, 0, value, 0, value.length);
        version++;
    }

    /**
     * Counts host writes through {@link #assign} (setWeights, loadWeights, EarlyStopping's restore): a device
     * backend that keeps its own copy uploads the value again when this has moved since its last upload.
     */
    public int version() { return version; }

    @Override public String toString() { return "Variable(" + name + " " + shape + ")"; }
}
