package dev.kiln.graph;

/**
 * Ops that only the compiler makes, after autodiff: a GEMM or convolution with its {@link Epilogue}
 * ({@link Linear}, {@link ConvBias}, made by {@code fuse_linear}) and a chain of elementwise primitives in one
 * loop ({@link Fused}, made by {@code fuse_elementwise}). They have no gradient: differentiate first, compile
 * after.
 */
public sealed interface Lowered extends Op permits Linear, ConvBias, Fused {}
