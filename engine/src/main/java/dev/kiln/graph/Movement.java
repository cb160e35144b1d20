package dev.kiln.graph;

/** Ops that only move or copy elements; no arithmetic. */
public sealed interface Movement permits View, Transpose, Broadcast, Slice, Concat, Pad {}
