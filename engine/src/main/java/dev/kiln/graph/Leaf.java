package dev.kiln.graph;

/** Primitives without inputs: program inputs, trainable variables and constants. */
public sealed interface Leaf extends Primitive permits Placeholder, Param, Full, Constant {}
