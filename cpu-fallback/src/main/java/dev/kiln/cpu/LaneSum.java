package dev.kiln.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one order in which the CPU kernels add up the lanes of an accumulator: a butterfly, lane i plus lane i ^ w for
 * w = L/2, ..., 2, 1 (for 16 lanes: ((l0+l8)+(l4+l12)) + ((l2+l10)+(l6+l14)) + ...), read from lane 0. Not
 * {@code reduceLanes(ADD)}: its order differs between the Java fallback (the interpreter and C1 run that) and C2's
 * intrinsic, so a sum taken before C2 compiled the kernel and the same sum after differ in the last bits, and a
 * seeded training run ends with other weights. Lanewise adds and lane permutations round the same in every tier.
 *
 * <p>The rule for every floating-point reduction in this package: its order depends on the shapes only, never on
 * the JIT tier, the thread count or which thread took a chunk. Lanes are summed here; sums over rows, pixels or K
 * run in index order (partial sums, where a kernel splits the range, in a count fixed by the shape and added in
 * segment order). MAX reductions may use {@code reduceLanes(MAX)}: max is order-independent, signed zeros
 * included; only which NaN's bits come out can differ.
 *
 * <pre>{@code float s = LaneSum.of(acc);   // once per row, not per element }</pre>
 *
 * Small enough for C2 to inline into every caller, so the vector argument is not boxed.
 */
final class LaneSum {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lanes of the species every vector kernel here uses. */
    static final int L = S.length();
    // lane i <-> lane i ^ w; null where the species has no such lanes (the branch using it is dead)
    private static final VectorShuffle<Float> X8 = swap(8), X4 = swap(4), X2 = swap(2), X1 = swap(1);

    private LaneSum() {}

    private static VectorShuffle<Float> swap(int w) { return w < L ? VectorShuffle.fromOp(S, i -> i ^ w) : null; }

    /** Σ lanes of v in the butterfly order above (L a constant, so C2 keeps only the steps this species has). */
    static float of(FloatVector v) {
        if (L > 16) return inOrder(v);
        if (L == 16) v = v.add(v.rearrange(X8));
        if (L >= 8) v = v.add(v.rearrange(X4));
        if (L >= 4) v = v.add(v.rearrange(X2));
        if (L >= 2) v = v.add(v.rearrange(X1));
        return v.lane(0);
    }

    // species wider than 512 bits (none on x86): lane 0 first, one by one
    private static float inOrder(FloatVector v) {
        float s = 0f;
        for (int i = 0; i < L; i++) s += v.lane(i);
        return s;
    }
}
