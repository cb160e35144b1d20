package dev.kiln.cuda;

import dev.kiln.backend.InputFeed;
import dev.kiln.compile.Program;
import dev.kiln.data.Batches;
import dev.kiln.data.Dataset;
import dev.kiln.data.Loader;
import dev.kiln.tensor.Shape;
import dev.kiln.train.LoaderSource;
import dev.kiln.cuda.emu.EmulatedDevice;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pinned prefetch's ordering and double buffering on the emulated device: every batch reaches the step's
 * device inputs, in order, through pinned buffers (asynchronous copies from the Java heap are refused, as on
 * CUDA); two buffer sets alternate; the filler never runs more than two batches ahead of the step; a failing
 * source surfaces in next(); close frees every pinned block.
 */
class PinnedFeedTest extends OnEmulatedDevice {
    private static final int BATCH = 4, FEATURES = 3, BATCHES = 7;
    private static Program program() { return trainingStep(denseModel(FEATURES, 1, 1), BATCH); }

    private static float value(int batch, int input, int i) { return batch * 100 + input * 10 + i * 0.5f; }

    @Test
    void batchesArriveInOrderThroughTwoAlternatingPinnedSets() {
        Program p = program();
        CudaExecutable step = (CudaExecutable) new CudaBackend(cuda.device).compile(p);
        int[] slots = {p.inputSlot("x"), p.inputSlot("y")};
        AtomicInteger filledCount = new AtomicInteger(), consumed = new AtomicInteger(), maxLead = new AtomicInteger();
        Set<Long> addresses = java.util.Collections.synchronizedSet(new HashSet<>());
        long[] lastAddress = new long[BATCHES];
        InputFeed.Source source = into -> {
            int b = filledCount.get();
            if (b == BATCHES) return false;
            for (int in = 0; in < into.length; in++) {
                for (int i = 0; i < into[in].byteSize() / 4; i++) into[in].setAtIndex(JAVA_FLOAT, i, value(b, in, i));
            }
            addresses.add(into[0].address());
            lastAddress[b] = into[0].address();
            maxLead.accumulateAndGet(b + 1 - consumed.get(), Math::max);
            filledCount.incrementAndGet();
            return true;
        };
        try (PinnedFeed feed = new PinnedFeed(step, slots, 2, source)) {
            for (int b = 0; b < BATCHES; b++) {
                assertTrue(feed.next(), "batch " + b);
                for (int in = 0; in < slots.length; in++) {
                    int n = p.inputs().get(slots[in]).shape().size();
                    float[] got = new float[n], want = new float[n];
                    for (int i = 0; i < n; i++) want[i] = value(b, in, i);
                    cuda.driver.memcpyDtoH(MemorySegment.ofArray(got), step.inputAddress(slots[in]), 4L * n);
                    assertArrayEquals(want, got, "input " + in + " of batch " + b + " on the device");
                }
                step.setInput(p.inputSlot("lr"), new float[] {1e-2f});
                step.setInput(p.inputSlot("step"), new float[] {b + 1});
                step.run();
                assertTrue(Float.isFinite(step.outputScalar(0)));
                consumed.incrementAndGet();
            }
            assertFalse(feed.next(), "the source is done after " + BATCHES + " batches");
            assertFalse(feed.next());
        }
        assertEquals(2, addresses.size(), "two pinned sets");
        for (int b = 2; b < BATCHES; b++) assertEquals(lastAddress[b - 2], lastAddress[b], "batch " + b + " reuses the set of batch " + (b - 2));
        assertTrue(lastAddress[0] != lastAddress[1]);
        assertTrue(maxLead.get() <= 2, "the filler ran " + maxLead.get() + " batches ahead of the step (at most 2)");
        long[] counts = cuda.driver.pinnedCounts();
        assertEquals(4, counts[0], "2 sets x 2 inputs pinned");
        assertEquals(0, counts[1], "every pinned block freed on close");
        assertThrows(RuntimeException.class, () -> cuda.driver.memcpyHtoDAsync(step.inputAddress(slots[0]), MemorySegment.ofArray(new float[4]), 16, step.stream()),
                "an asynchronous copy from the Java heap is refused");
        step.close();
        EmulatedDevice.CASES.incrementAndGet();
    }

    @Test
    void aFailingSourceSurfacesInNext() {
        Program p = program();
        CudaExecutable step = (CudaExecutable) new CudaBackend(cuda.device).compile(p);
        AtomicInteger calls = new AtomicInteger();
        InputFeed.Source source = into -> {
            if (calls.incrementAndGet() == 2) throw new java.io.IOException("disk gone");
            return true;
        };
        try (PinnedFeed feed = new PinnedFeed(step, new int[] {p.inputSlot("x")}, 2, source)) {
            assertTrue(feed.next());
            var e = assertThrows(IllegalStateException.class, feed::next);
            assertTrue(e.getMessage().contains("disk gone"), e.getMessage());
        }
        step.close();
    }

    @Test
    void aLoadersFullBatchesFlowThroughThePinnedFeedAndTheShortOneIsLeftOver() {
        Program p = program();
        CudaExecutable step = (CudaExecutable) new CudaBackend(cuda.device).compile(p);
        int rows = 4 * BATCH + 2;
        float[] x = new float[rows * FEATURES], y = new float[rows];
        for (int i = 0; i < x.length; i++) x[i] = i;
        for (int i = 0; i < y.length; i++) y[i] = -i;
        Dataset data = Dataset.of(x, Shape.of(rows, FEATURES), y, Shape.of(rows, 1));
        try (Loader loader = Batches.of(data, BATCH).withShuffle(false).withPrefetch(true).open()) {
            loader.startEpoch(0);
            LoaderSource source = new LoaderSource(loader, BATCH, new int[] {0}, new int[] {0});
            try (PinnedFeed feed = new PinnedFeed(step, new int[] {p.inputSlot("x"), p.inputSlot("y")}, 2, source)) {
                for (int b = 0; b < 4; b++) {
                    assertTrue(feed.next(), "batch " + b);
                    float[] gotX = new float[BATCH * FEATURES], gotY = new float[BATCH];
                    cuda.driver.memcpyDtoH(MemorySegment.ofArray(gotX), step.inputAddress(p.inputSlot("x")), 4L * gotX.length);
                    cuda.driver.memcpyDtoH(MemorySegment.ofArray(gotY), step.inputAddress(p.inputSlot("y")), 4L * gotY.length);
                    assertArrayEquals(java.util.Arrays.copyOfRange(x, b * BATCH * FEATURES, (b + 1) * BATCH * FEATURES), gotX, "x of batch " + b);
                    assertArrayEquals(java.util.Arrays.copyOfRange(y, b * BATCH, (b + 1) * BATCH), gotY, "y of batch " + b);
                }
                assertFalse(feed.next(), "the short last batch ends the feed");
                assertEquals(2, source.remainder().size(), "and is left for its own program");
            }
        }
        step.close();
    }
}
