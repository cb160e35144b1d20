package dev.kiln.serve;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class CallerThreadHeapTest {
    /**
     * A service calls a predictor from many threads (a 16-thread HTTP pool held 16 of them). A single-row call runs
     * thin GEMMs only, so a new caller thread must not get the CPU GEMM's 4.2 MB packing buffers: with them, each
     * thread that ever predicted held ~8 MB of heap (the arrays are humongous in G1) while it lived.
     */
    @Test
    void aNewCallerThreadsFirstSingleRowPredictionAllocatesUnderAMegabyte() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Predictor p = Predictor.of(PredictorTest.mlp(), 2, 8)) {
            float[] row = PredictorTest.random(11, 3), out = new float[1];
            p.predict(row, 1, out);   // the 1-row program compiled, on this thread
            AtomicLong allocated = new AtomicLong();
            Thread caller = Thread.ofPlatform().start(() -> {
                float[] y = new float[1];
                long before = mx.getCurrentThreadAllocatedBytes();
                p.predict(row, 1, y);
                allocated.set(mx.getCurrentThreadAllocatedBytes() - before);
            });
            caller.join();
            assertTrue(allocated.get() < 1 << 20, "a new thread's first 1-row prediction allocated " + allocated.get() + " bytes");
        }
    }
}
