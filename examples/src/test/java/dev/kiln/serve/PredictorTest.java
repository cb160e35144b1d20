package dev.kiln.serve;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.graph.Node;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Input;
import dev.kiln.nn.MaxPool2D;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class PredictorTest {
    /** M1's shape, narrower (bench's M1: 11 -> 512 x3 -> 1), so the test stays quick. */
    static Model mlp() {
        return Sequential.of(Input.shape(11), Dense.of(64).relu(), Dense.of(64).relu(), Dense.of(1)).seed(1);
    }

    /** M3's shape (conv blocks, then dense), smaller: 12x12 images. */
    static Model convnet() {
        return Sequential.of(Input.shape(12, 12, 1), Conv2D.of(8, 3).relu().same(), MaxPool2D.of(2),
                Conv2D.of(8, 3).relu().same(), MaxPool2D.of(2), Flatten.of(), Dense.of(16).relu(), Dense.of(10).softmax()).seed(1);
    }

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextDouble(-1, 1);
        return x;
    }

    @Test
    void concurrentCallsOfTheMlpAreBitIdenticalToSingleThreadedCalls() throws Exception {
        concurrentMatchesSequential(mlp(), 8, 150);
    }

    @Test
    void concurrentCallsOfTheConvnetAreBitIdenticalToSingleThreadedCalls() throws Exception {
        concurrentMatchesSequential(convnet(), 8, 40);
    }

    /** threads x calls requests of 1..20 rows, answered concurrently and then one by one on a fresh predictor: same bits. */
    static void concurrentMatchesSequential(Model model, int threads, int calls) throws Exception {
        int in;
        List<float[]> requests = new ArrayList<>();
        try (Predictor p = Predictor.of(model, 4, 16)) {
            in = p.inputSize();
            SplittableRandom r = new SplittableRandom(7);
            for (int i = 0; i < threads * calls; i++) requests.add(random((1 + r.nextInt(20)) * in, i));
            float[][] concurrent = new float[requests.size()][];
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int first = t * calls;
                    fs.add(pool.submit(() -> { for (int i = first; i < first + calls; i++) concurrent[i] = p.predict(requests.get(i)); }));
                }
                for (Future<?> f : fs) f.get(300, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            assertTrue(p.programs().values().stream().allMatch(c -> c <= 4), "at most 4 programs per bucket (concurrency 4): " + p.programs());
            try (Predictor single = Predictor.of(model, 1, 16)) {
                for (int i = 0; i < requests.size(); i++) {
                    float[] expected = single.predict(requests.get(i));
                    assertArrayEquals(expected, concurrent[i], "request " + i + " (" + requests.get(i).length / in + " rows)");
                }
            }
        }
    }

    @Test
    void aPaddedBucketGivesTheRowsOfModelPredictAtTheBucketSize() {
        Model model = mlp();
        float[] x8 = random(8 * 11, 3);
        float[] expected = model.predict(x8, 8);   // model.predict's own program of 8 rows
        float[] x5 = Arrays.copyOf(x8, 5 * 11);
        try (Predictor p = Predictor.of(model, 2, 8)) {
            // rows do not see each other, and the padding rows are zeros: the 5 rows are the first 5 of the 8
            float[] y = p.predict(x5);
            assertEquals(5, y.length);
            float[] expected5 = model.predict(Arrays.copyOf(x5, 8 * 11), 8);
            assertArrayEquals(Arrays.copyOf(expected5, 5), y);
            // 20 rows with maxBatch 8: chunks of 8, 8 and 4 (padded to 4, no padding)
            float[] x20 = random(20 * 11, 4);
            float[] y20 = p.predict(x20);
            assertArrayEquals(Arrays.copyOf(model.predict(Arrays.copyOf(x20, 8 * 11), 8), 8), Arrays.copyOf(y20, 8));
            assertEquals(java.util.Set.of(4, 8), p.programs().keySet());
        }
        assertEquals(8, expected.length);
    }

    @Test
    void wrongShapeAndNanAreTheCallersErrorAndOthersAreStillServed() {
        try (Predictor p = Predictor.of(mlp(), 2, 8)) {
            float[] good = random(3 * 11, 5);
            float[] before = p.predict(good);
            var shape = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[12]));
            assertTrue(shape.getMessage().contains("12 values") && shape.getMessage().contains("11"), shape.getMessage());
            float[] nan = good.clone();
            nan[2 * 11 + 4] = Float.NaN;
            var bad = assertThrows(IllegalArgumentException.class, () -> p.predict(nan));
            assertTrue(bad.getMessage().contains("row 2, value 4 is NaN"), bad.getMessage());
            var small = assertThrows(IllegalArgumentException.class, () -> p.predict(good, 3, new float[2]));
            assertTrue(small.getMessage().contains("output array has 2"), small.getMessage());
            assertArrayEquals(before, p.predict(good), "served as before after the bad calls");
        }
    }

    /**
     * The CPU backend's programs, with a run that computes nothing: what is left of a call is the predictor's own work
     * (borrowing a program, copying rows in and out). The backend's run itself allocates today, from 0 to ~42 KB per
     * run of this model depending on what the JIT has compiled (measured in this test's first version): the backend's
     * to remove, not the predictor's.
     */
    record NoRunBackend(Backend real) implements Backend {
        public String name() { return "no-run(" + real.name() + ")"; }
        public int priority() { return 0; }
        public Availability availability() { return real.availability(); }
        public Executable compile(Program program) {
            Executable e = real.compile(program);
            return new Executable() {
                public Program program() { return e.program(); }
                public void setInput(int slot, float[] data) { e.setInput(slot, data); }
                public void setInput(int slot, float[] src, int offset, int count) { e.setInput(slot, src, offset, count); }
                public void run() {}
                public void readOutput(int slot, float[] dst, int offset) { e.readOutput(slot, dst, offset); }
                public float outputScalar(int slot) { return e.outputScalar(slot); }
                @Override public void close() { e.close(); }
            };
        }
        public void evaluate(Node node, float[][] inputs, float[] out) { real.evaluate(node, inputs, out); }
    }

    @Test
    void theCallersOutputArrayAvoidsAllocationOnceWarm() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Model model = mlp();
        model.backend(new NoRunBackend(Backend.auto()));
        try (Predictor p = Predictor.of(model, 2, 8)) {
            float[] x = random(5 * 11, 6), out = new float[5];   // 5 rows: the padded path, the one with copies
            for (int i = 0; i < 20_000; i++) p.predict(x, 5, out);
            long least = Long.MAX_VALUE;
            for (int round = 0; round < 3; round++) {   // the least of three: a stray allocation by the JIT does not count
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 1000; i++) p.predict(x, 5, out);
                least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
            }
            // one small object per call would be >= 16,000 bytes over 1000 calls
            assertTrue(least < 4000, "1000 warm calls allocated " + least + " bytes");
        }
    }

    @Test
    void closeFreesTheProgramsAndLaterCallsSaySo() {
        Predictor p = Predictor.of(mlp(), 2, 8);
        p.predict(random(11, 1));
        assertEquals(java.util.Map.of(1, 1), p.programs());
        p.close();
        assertEquals(java.util.Map.of(), p.programs());
        var e = assertThrows(IllegalStateException.class, () -> p.predict(random(11, 1)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        p.close();   // idempotent
    }

    @Test
    void aSavedModelServesTheSameAndACorruptOrTruncatedFileIsNamed(@TempDir Path dir) throws IOException {
        Model model = mlp();
        Path file = dir.resolve("m.kiln");
        model.save(file);
        float[] x = random(4 * 11, 8);
        float[] expected;
        try (Predictor p = Predictor.of(model, 1, 8)) { expected = p.predict(x); }
        try (Predictor p = Predictor.load(file)) { assertArrayEquals(expected, p.predict(x)); }

        byte[] bytes = Files.readAllBytes(file);
        Path truncated = dir.resolve("truncated.kiln");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        var t = assertThrows(IOException.class, () -> Predictor.load(truncated));
        assertTrue(t.getMessage().contains("truncated.kiln"), t.getMessage());

        Path corrupt = dir.resolve("corrupt.kiln");
        byte[] flipped = bytes.clone();
        flipped[bytes.length - 7] ^= 0x5a;   // a weight byte: the checksum catches it
        Files.write(corrupt, flipped);
        var c = assertThrows(IOException.class, () -> Predictor.load(corrupt));
        assertTrue(c.getMessage().contains("corrupt.kiln"), c.getMessage());
    }
}
