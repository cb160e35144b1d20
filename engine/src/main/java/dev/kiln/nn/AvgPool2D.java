package dev.kiln.nn;

import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;

/** Average pooling (padding excluded from the mean): {@code AvgPool2D.of(2)}. */
public final class AvgPool2D {
    private AvgPool2D() {}

    public static Pooling2D of(int pool) { return of(pool, pool); }

    public static Pooling2D of(int poolH, int poolW) { return new Pooling2D(new Pool2d(Pool2d.Kind.AVG, poolH, poolW, poolH, poolW, Padding.VALID)); }
}
