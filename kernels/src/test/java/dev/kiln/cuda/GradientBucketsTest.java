package dev.kiln.cuda;

import dev.kiln.cuda.GradientBuckets.Bucket;
import dev.kiln.cuda.GradientBuckets.Gradient;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GradientBucketsTest {
    /** M1's parameters in forward order (Dense 11->512, 512->512, 512->512, 512->1: kernel, bias), 4-byte floats. */
    static List<Gradient> m1Forward() {
        int[][] dense = {{11, 512}, {512, 512}, {512, 512}, {512, 1}};
        List<Gradient> g = new ArrayList<>();
        for (int i = 0; i < dense.length; i++) {
            g.add(new Gradient("dense_" + i + "/kernel", 4L * dense[i][0] * dense[i][1]));
            g.add(new Gradient("dense_" + i + "/bias", 4L * dense[i][1]));
        }
        return g;
    }

    @Test
    void bucketsFollowTheBackwardOrderAndStayUnderTheCap() {
        List<Gradient> produced = GradientBuckets.fromForwardOrder(m1Forward());
        assertEquals("dense_3/bias", produced.getFirst().name());   // the last layer's gradients come first
        long cap = 1_051_000;   // one 512x512 kernel (1,048,576 bytes) and one 512-float bias (2,048 bytes), no more
        GradientBuckets plan = GradientBuckets.plan(produced, cap, 2);
        assertTrue(plan.allReduces());
        // dense_3 goes with dense_2's bias; dense_2's kernel would pass the cap, so it opens the next bucket
        List<List<String>> names = new ArrayList<>();
        for (Bucket b : plan.buckets()) names.add(b.members().stream().map(i -> produced.get(i).name()).toList());
        assertEquals(List.of(
                List.of("dense_3/bias", "dense_3/kernel", "dense_2/bias"),
                List.of("dense_2/kernel", "dense_1/bias"),
                List.of("dense_1/kernel", "dense_0/bias"),
                List.of("dense_0/kernel")), names);
        for (Bucket b : plan.buckets()) assertTrue(b.bytes() <= cap, "bucket " + b.index() + " has " + b.bytes() + " bytes");
    }

    @Test
    void everyGradientIsInExactlyOneBucketAtAlignedNonOverlappingOffsets() {
        List<Gradient> produced = GradientBuckets.fromForwardOrder(m1Forward());
        GradientBuckets plan = GradientBuckets.plan(produced, 300_000, 4);
        int next = 0;
        long end = 0;
        for (Bucket b : plan.buckets()) {
            assertEquals(0, b.offset() % GradientBuckets.ALIGNMENT, "bucket offset");
            assertTrue(b.offset() >= end, "buckets overlap");
            long inner = 0;
            for (int k = 0; k < b.members().size(); k++) {
                assertEquals(next++, b.members().get(k), "gradients keep their production order");
                long off = b.memberOffsets().get(k);
                assertEquals(0, off % GradientBuckets.ALIGNMENT);
                assertTrue(off >= inner, "members overlap");
                inner = off + produced.get(b.members().get(k)).bytes();
            }
            assertEquals(inner, b.bytes());
            end = b.offset() + b.bytes();
        }
        assertEquals(produced.size(), next);
        assertEquals(end, plan.flatBytes());
    }

    @Test
    void aGradientLargerThanTheCapGetsABucketOfItsOwn() {
        List<Gradient> produced = List.of(new Gradient("a", 100), new Gradient("big", 5000), new Gradient("c", 100));
        GradientBuckets plan = GradientBuckets.plan(produced, 1000, 2);
        assertEquals(List.of(List.of(0), List.of(1), List.of(2)), plan.buckets().stream().map(Bucket::members).toList());
        assertEquals(5000, plan.buckets().get(1).bytes());
    }

    @Test
    void eachBucketIsReadyWhenItsLastGradientIsProducedSoAllReduceOverlapsTheBackwardPass() {
        List<Gradient> produced = GradientBuckets.fromForwardOrder(m1Forward());
        GradientBuckets plan = GradientBuckets.plan(produced, 1_051_000, 2);
        List<Integer> readyAt = new ArrayList<>();
        for (int g = 0; g < produced.size(); g++) for (Bucket b : plan.readyAfter(g)) readyAt.add(g);
        assertEquals(List.of(2, 4, 6, 7), readyAt);
        // three of the four all-reduces can start before the backward pass has produced its last gradient
        assertEquals(3, readyAt.stream().filter(g -> g < produced.size() - 1).count());
    }

    @Test
    void withOneRankThereIsNoAllReduce() {
        GradientBuckets plan = GradientBuckets.plan(GradientBuckets.fromForwardOrder(m1Forward()), GradientBuckets.DEFAULT_CAP_BYTES, 1);
        assertFalse(plan.allReduces());
        assertTrue(plan.buckets().isEmpty());
        for (int g = 0; g < 8; g++) assertTrue(plan.readyAfter(g).isEmpty());
        assertEquals(0, plan.flatBytes());
    }

    @Test
    void badArgumentsAreRefusedInOneLine() {
        assertThrows(IllegalArgumentException.class, () -> GradientBuckets.plan(List.of(), 0, 2));
        assertThrows(IllegalArgumentException.class, () -> GradientBuckets.plan(List.of(), 1000, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Gradient("w", 0));
        assertTrue(e.getMessage().contains("gradient w has 0 bytes"), e.getMessage());
    }
}
