package dev.kiln.data;

import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BatchesTest {
    /** The labels of every batch of an epoch, in order. */
    static List<float[]> epochLabels(Loader loader, int epoch) {
        List<float[]> out = new ArrayList<>();
        for (Batch b : loader.epoch(epoch)) out.add(Arrays.copyOf(b.labels(), b.size()));
        return out;
    }

    static float[] flat(List<float[]> batches) {
        int n = 0;
        for (float[] b : batches) n += b.length;
        float[] f = new float[n];
        int o = 0;
        for (float[] b : batches) { System.arraycopy(b, 0, f, o, b.length); o += b.length; }
        return f;
    }

    @Test void everyExampleAppearsExactlyOncePerEpochWithFeaturesMatchingLabels() {
        Dataset d = DatasetTest.counting(103, 4);
        try (Loader loader = Batches.of(d, 10).withSeed(5).open()) {
            for (int epoch = 0; epoch < 3; epoch++) {
                int[] count = new int[103];
                int batches = 0;
                for (Batch b : loader.epoch(epoch)) {
                    batches++;
                    assertEquals(Shape.of(b.size(), 4), b.featureShape());
                    for (int i = 0; i < b.size(); i++) {
                        int label = (int) b.labels()[i];
                        count[label]++;
                        assertEquals(label * 100 + 3, b.features()[i * 4 + 3]);
                    }
                }
                assertEquals(11, batches);
                for (int c : count) assertEquals(1, c);
            }
        }
    }

    @Test void shufflesDifferByEpochAndRepeatWithTheSeed() {
        Dataset d = DatasetTest.counting(50, 1);
        float[] e0, e1, again, otherSeed;
        try (Loader l = Batches.of(d, 8).withSeed(11).open()) { e0 = flat(epochLabels(l, 0)); e1 = flat(epochLabels(l, 1)); }
        try (Loader l = Batches.of(d, 8).withSeed(11).open()) { epochLabels(l, 0); again = flat(epochLabels(l, 1)); }
        try (Loader l = Batches.of(d, 8).withSeed(12).open()) { otherSeed = flat(epochLabels(l, 1)); }
        assertFalse(Arrays.equals(e0, e1));
        assertArrayEquals(e1, again);
        assertFalse(Arrays.equals(e1, otherSeed));
        try (Loader l = Batches.of(d, 8).withShuffle(false).open()) {
            float[] inOrder = flat(epochLabels(l, 3));
            for (int i = 0; i < 50; i++) assertEquals(i, inOrder[i]);
        }
    }

    @Test void lastPartialBatchIsKeptOrDropped() {
        Dataset d = DatasetTest.counting(25, 1);
        try (Loader keep = Batches.of(d, 10).open(); Loader drop = Batches.of(d, 10).withDropLast(true).open()) {
            List<float[]> k = epochLabels(keep, 0), dr = epochLabels(drop, 0);
            assertEquals(List.of(10, 10, 5), k.stream().map(a -> a.length).toList());
            assertEquals(List.of(10, 10), dr.stream().map(a -> a.length).toList());
        }
        assertThrows(IllegalArgumentException.class, () -> Batches.of(d, 30).withDropLast(true));
    }

    @Test void prefetchYieldsTheSameBatchesAsWithout() {
        float[] x = new float[37 * 4 * 4 * 2];
        for (int i = 0; i < x.length; i++) x[i] = (i * 37 % 101) / 101f;
        float[] y = new float[37];
        for (int i = 0; i < 37; i++) y[i] = i;
        Dataset d = Dataset.of(x, Shape.of(37, 4, 4, 2), y, Shape.of(37));
        Batches plan = Batches.of(d, 6).withSeed(3).withAugment(Augment.none().withFlip(true).withCropPadding(1).withBrightness(0.2f));
        try (Loader plain = plan.open(); Loader pre = plan.withPrefetch(true).open()) {
            for (int epoch = 0; epoch < 4; epoch++) {
                Batch a, b;
                plain.startEpoch(epoch);
                pre.startEpoch(epoch);
                int n = 0;
                while ((a = plain.next()) != null) {
                    b = pre.next();
                    assertNotNull(b, "prefetch ended early in epoch " + epoch);
                    assertEquals(a.size(), b.size());
                    assertEquals(a.index(), b.index());
                    assertArrayEquals(Arrays.copyOf(a.features(), a.size() * 32), Arrays.copyOf(b.features(), b.size() * 32));
                    assertArrayEquals(Arrays.copyOf(a.labels(), a.size()), Arrays.copyOf(b.labels(), b.size()));
                    n++;
                }
                assertNull(pre.next());
                assertEquals(7, n);
            }
            // Jumping back to an earlier epoch restarts the prefetch thread at that epoch.
            assertArrayEquals(flat(epochLabels(plain, 1)), flat(epochLabels(pre, 1)));
            // Caller-provided buffers give the same batch as the loader's own.
            float[] bx = new float[6 * 32], by = new float[6];
            plain.startEpoch(2);
            pre.startEpoch(2);
            assertEquals(6, pre.next(bx, by));
            Batch a = plain.next();
            assertArrayEquals(Arrays.copyOf(a.features(), 6 * 32), bx);
        }
    }

    @Test void prefetchErrorsReachTheConsumerAndCloseStopsTheThread() throws Exception {
        Dataset d = DatasetTest.counting(40, 2);
        Loader l = new Loader(Batches.of(d, 4).withPrefetch(true), i -> { if (i == 3) throw new IllegalArgumentException("bad batch 3"); });
        l.startEpoch(0);
        for (int i = 0; i < 3; i++) assertNotNull(l.next());
        var e = assertThrows(IllegalStateException.class, l::next);
        assertTrue(e.getMessage().contains("bad batch 3"), e.getMessage());
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        l.close();
        Loader ok = Batches.of(d, 4).withPrefetch(true).open();
        ok.startEpoch(0);
        ok.next();
        ok.close();
        for (Thread t : Thread.getAllStackTraces().keySet())
            assertFalse(t.getName().equals("kiln-prefetch") && t.isAlive(), "a prefetch thread is still running after close()");
    }

    @Test void steadyStateBatchingAllocatesNothing() {
        Dataset d = DatasetTest.counting(256, 16);
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        try (Loader l = Batches.of(d, 32).withSeed(1).open()) {
            float[] sink = new float[1];
            for (int e = 0; e < 3; e++) { l.startEpoch(e); Batch b; while ((b = l.next()) != null) sink[0] += b.features()[0]; }
            long before = mx.getThreadAllocatedBytes(tid);
            for (int e = 3; e < 103; e++) { l.startEpoch(e); Batch b; while ((b = l.next()) != null) sink[0] += b.features()[0]; }
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            // 800 batches; the counter call itself may allocate a few hundred bytes.
            assertTrue(allocated < 2048, "batching allocated " + allocated + " bytes over 800 batches");
        }
    }

    @Test void flipMirrorsEachRowAndCropShiftsWithZeroFill() {
        // One 2x3 single-channel image: rows [1 2 3], [4 5 6].
        float[] img = {1, 2, 3, 4, 5, 6};
        Augment flip = Augment.none().withFlip(true);
        // Find a seed whose draw flips, then check the result.
        SplitMix rng = new SplitMix(0);
        boolean flipped = false;
        for (long s = 0; s < 20 && !flipped; s++) {
            float[] x = img.clone();
            rng.reseed(s);
            flip.apply(x, 0, 2, 3, 1, rng, new float[6]);
            if (x[0] != 1) { assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4}, x); flipped = true; }
            else assertArrayEquals(img, x);
        }
        assertTrue(flipped);
        Augment crop = Augment.none().withCropPadding(1);
        int shifted = 0;
        for (long s = 0; s < 50; s++) {
            float[] x = img.clone();
            rng.reseed(s);
            crop.apply(x, 0, 2, 3, 1, rng, new float[6]);
            float sum = 0;
            for (float v : x) sum += v;
            if (sum != 21) shifted++;
            for (float v : x) assertTrue(v == 0 || (v >= 1 && v <= 6));
        }
        assertTrue(shifted > 20, "crop shifted only " + shifted + " of 50 images");
    }
}
