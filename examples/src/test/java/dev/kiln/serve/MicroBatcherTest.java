package dev.kiln.serve;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class MicroBatcherTest {
    @Test
    void concurrentRowsAreBatchedAndEachCallerGetsItsOwnRow() throws Exception {
        int threads = 8, calls = 100;
        try (Predictor p = Predictor.of(PredictorTest.mlp(), 2, 16);
             MicroBatcher b = MicroBatcher.of(p, Duration.ofMillis(5), 64, MicroBatcher.Overload.BLOCK)) {
            float[][] rows = new float[threads * calls][], got = new float[threads * calls][];
            for (int i = 0; i < rows.length; i++) rows[i] = PredictorTest.random(11, 100 + i);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int first = t * calls;
                    fs.add(pool.submit(() -> { for (int i = first; i < first + calls; i++) got[i] = b.predict(rows[i]); }));
                }
                for (Future<?> f : fs) f.get(120, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            assertEquals(rows.length, b.rows());
            // 8 callers at once within a 5 ms window: batches hold more than one row on average (1.0 would be no batching)
            assertTrue((double) b.rows() / b.batches() > 1.5, "mean batch " + (double) b.rows() / b.batches() + " rows (" + b.batches() + " batches)");
            for (int i = 0; i < rows.length; i++) {
                // alone, a row runs the 1-row program (a GEMV); batched, the GEMM of its bucket: the sums may round
                // differently, within float rounding of a 64-wide dot product. Rows differ by far more, so a swapped
                // answer fails.
                float expected = p.predict(rows[i])[0];
                assertEquals(expected, got[i][0], 1e-5f * Math.max(1f, Math.abs(expected)), "caller row " + i);
            }
        }
    }

    @Test
    void aFullQueueRejectsOrBlocksAsChosen() throws Exception {
        try (Predictor p = Predictor.of(PredictorTest.mlp(), 1, 8)) {
            float[] row = PredictorTest.random(11, 1);
            try (MicroBatcher reject = MicroBatcher.unstarted(p, Duration.ZERO, 3, MicroBatcher.Overload.REJECT)) {
                List<CompletableFuture<float[]>> accepted = new ArrayList<>();
                for (int i = 0; i < 3; i++) accepted.add(reject.submit(row));
                var e = assertThrows(RejectedExecutionException.class, () -> reject.submit(row));
                assertTrue(e.getMessage().contains("3 rows already wait"), e.getMessage());
                reject.start();
                for (var f : accepted) assertArrayEquals(p.predict(row), f.get(60, TimeUnit.SECONDS));
            }
            try (MicroBatcher block = MicroBatcher.unstarted(p, Duration.ZERO, 2, MicroBatcher.Overload.BLOCK)) {
                block.submit(row);
                block.submit(row);
                CompletableFuture<float[]> third = new CompletableFuture<>();
                Thread caller = Thread.ofPlatform().start(() -> third.complete(block.predict(row)));
                // the caller waits for room: no third row is queued while the queue is full
                while (caller.getState() != Thread.State.WAITING) Thread.onSpinWait();
                assertEquals(2, block.queued());
                assertFalse(third.isDone());
                block.start();
                assertArrayEquals(p.predict(row), third.get(60, TimeUnit.SECONDS));
                caller.join();
            }
        }
    }

    @Test
    void aBadRowFailsItsCallerOnly() throws Exception {
        try (Predictor p = Predictor.of(PredictorTest.mlp(), 1, 8);
             MicroBatcher b = MicroBatcher.of(p, Duration.ofMillis(1), 16, MicroBatcher.Overload.BLOCK)) {
            float[] nan = new float[11];
            nan[3] = Float.NaN;
            var e = assertThrows(IllegalArgumentException.class, () -> b.predict(nan));
            assertTrue(e.getMessage().contains("value 3 of the row is NaN"), e.getMessage());
            var s = assertThrows(IllegalArgumentException.class, () -> b.predict(new float[4]));
            assertTrue(s.getMessage().contains("got 4"), s.getMessage());
            float[] row = PredictorTest.random(11, 2);
            assertArrayEquals(p.predict(row), b.predict(row));
        }
    }
}
