package dev.kiln.graph;

/** Ops that map each output element from the same-index (broadcast) input elements; fusion asks for this. */
public sealed interface Elementwise permits Unary, Binary, Where {}
