package dev.kiln.graph;

/** Primitives that map each output element from the same-index (broadcast) input elements; fusion asks for this. */
public sealed interface Elementwise extends Primitive permits Unary, Binary, Where {}
