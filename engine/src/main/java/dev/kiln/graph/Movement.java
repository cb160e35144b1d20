package dev.kiln.graph;

/** Ops that only move or copy elements; no arithmetic. */
public sealed interface Movement permits Reshape, Transpose, Broadcast, Slice, Concat, Pad {}
