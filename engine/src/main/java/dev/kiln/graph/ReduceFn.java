package dev.kiln.graph;

/** Reductions over a set of axes. */
public enum ReduceFn {
    SUM, MEAN, MAX;

    public String lowerName() { return name().toLowerCase(); }
}
