package dev.kiln.graph;

/** Ops without inputs: program inputs, trainable variables and constants. */
public sealed interface Leaf permits Placeholder, Param, Full, Constant {}
