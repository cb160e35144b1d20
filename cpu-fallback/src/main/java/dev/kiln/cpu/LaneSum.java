package dev.kiln.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * The one order in which the CPU kernels add up the lanes of an accumulator: spilled to an array, then added one by
 * one from lane 0, starting at 0. Not {@code reduceLanes(ADD)}: its order differs between the Java fallback (the
 * interpreter and C1 run that) and C2's intrinsic, so a sum taken before C2 compiled the kernel and the same sum
 * after would differ in the last bits, and a seeded training run would end with other weights.
 *
 * <p>The rule for every floating-point reduction in this package: its order depends on the shapes only, never on
 * the JIT tier, the thread count or which thread took a chunk. Lanes are summed here; sums over rows, pixels or K
 * run in index order (partial sums, where a kernel splits the range, in a count fixed by the shape and added in
 * segment order). MAX reductions may use {@code reduceLanes(MAX)}: max is order-independent, signed zeros
 * included; only which NaN's bits come out can differ.
 *
 * <pre>{@code acc.intoArray(lanes, 0); float s = LaneSum.of(lanes, 0);   // once per row, not per element }</pre>
 */
final class LaneSum {
    /** Lanes of the species every vector kernel here uses. */
    static final int L = FloatVector.SPECIES_PREFERRED.length();

    private LaneSum() {}

    /** lanes[off] + lanes[off + 1] + ... + lanes[off + L - 1], added left to right from 0. */
    static float of(float[] lanes, int off) {
        float s = 0f;
        for (int i = 0; i < L; i++) s += lanes[off + i];
        return s;
    }
}
