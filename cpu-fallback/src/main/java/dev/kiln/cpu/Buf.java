package dev.kiln.cpu;

/** A resolved place in memory: an array and an offset into it (floats). Bound at compile time. */
record Buf(float[] array, int offset) {}
