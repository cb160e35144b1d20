package dev.kiln.graph;

/** Primitives that only move or copy elements; no arithmetic. */
public sealed interface Movement extends Primitive permits View, Transpose, Broadcast, Slice, Concat, Pad {}
