package dev.kiln.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** LaneSum adds lanes in its documented butterfly order, bit for bit, on values where the order changes the sum. */
class LaneSumTest {
    private static final int L = LaneSum.L;

    /** The twin: lane i += lane i ^ w for w = L/2, ..., 1 on plain floats; lane 0 is the sum. */
    static float butterfly(float[] lanes) {
        float[] v = lanes.clone();
        for (int w = L / 2; w >= 1; w /= 2) {
            float[] next = new float[L];
            for (int i = 0; i < L; i++) next[i] = v[i] + v[i ^ w];
            v = next;
        }
        return v[0];
    }

    @Test
    void lanesAreSummedInTheButterflyOrderBitForBit() {
        SplittableRandom r = new SplittableRandom(14);
        int differsFromInOrder = 0;
        for (int t = 0; t < 2000; t++) {
            float[] lanes = new float[L];
            // magnitudes over 16 binades, mixed signs: reordering the adds changes the rounding
            for (int i = 0; i < L; i++) lanes[i] = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(16)));
            float got = LaneSum.of(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, lanes, 0));
            assertEquals(Float.floatToRawIntBits(butterfly(lanes)), Float.floatToRawIntBits(got), () -> java.util.Arrays.toString(lanes));
            float inOrder = 0f;
            for (float x : lanes) inOrder += x;
            if (inOrder != got) differsFromInOrder++;
        }
        // the check can fail: on these values another order (lane 0 first, one by one) gives other bits
        if (L >= 4) assertTrue(differsFromInOrder > 100, "only " + differsFromInOrder + " of 2000 sums depend on the order");
    }
}
