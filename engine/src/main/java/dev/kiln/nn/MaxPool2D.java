package dev.kiln.nn;

import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;

/** Max pooling: {@code MaxPool2D.of(2)} halves height and width. */
public final class MaxPool2D {
    private MaxPool2D() {}

    public static Pooling2D of(int pool) { return of(pool, pool); }

    public static Pooling2D of(int poolH, int poolW) { return new Pooling2D(new Pool2d(Pool2d.Kind.MAX, poolH, poolW, poolH, poolW, Padding.VALID)); }
}
