package dev.kiln.onnx;

import dev.kiln.io.OnnxFile;
import dev.kiln.serve.Predictor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

class OnnxBadFileTest {
    /** x [batch, 4] -> Gemm -> Erf -> LSTM -> y: two ops Kiln does not map, each on its own node. */
    static byte[] unsupported() throws IOException {
        return OnnxFixtures.model(4, List.of(
                new OnnxFixtures.N("Gemm", "fc", List.of("x", "w"), List.of("h")),
                new OnnxFixtures.N("Erf", "erf_1", List.of("h"), List.of("e")),
                new OnnxFixtures.N("LSTM", "lstm", List.of("e"), List.of("y"))), "y",
                Map.of("w", new float[][] {{4, 2}, new float[8]}));
    }

    @Test
    void eachUnsupportedOpIsNamedWithItsNode(@TempDir Path dir) throws IOException {
        Path f = Files.write(dir.resolve("recurrent.onnx"), unsupported());
        var e = assertThrows(IllegalArgumentException.class, () -> Onnx.load(f));
        assertTrue(e.getMessage().startsWith(f + ": 2 unsupported ONNX ops: Erf (node 'erf_1'), LSTM (node 'lstm'); Kiln imports "), e.getMessage());
    }

    @Test
    void aHandMadeModelOfSupportedOpsLoadsAndRuns() throws IOException {
        // the same writer with supported ops: what the test above refuses is the ops, not the file
        byte[] ok = OnnxFixtures.model(2, List.of(
                new OnnxFixtures.N("Gemm", "fc", List.of("x", "w", "b"), List.of("h")),
                new OnnxFixtures.N("Relu", "relu", List.of("h"), List.of("y"))), "y",
                Map.of("w", new float[][] {{2, 2}, {1, -1, 2, 0}}, "b", new float[][] {{2}, {0.5f, -10}}));
        var m = Onnx.of(OnnxFile.parse(ok, "hand.onnx"), "hand.onnx");
        try (Predictor p = Predictor.of(m, 1, 4)) {
            // [3, 1] · [[1, -1], [2, 0]] + [0.5, -10] = [5.5, -13] -> relu -> [5.5, 0]
            assertArrayEquals(new float[] {5.5f, 0f}, p.predict(new float[] {3, 1}));
        }
    }

    @Test
    void everyTruncationOfAModelFailsNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(OnnxFixtures.committed(dir).onnx());
        for (int len = 0; len < whole.length; len++) {
            byte[] cut = Arrays.copyOf(whole, len);
            int n = len;
            var e = assertThrows(IOException.class, () -> OnnxFile.parse(cut, "bn.onnx"), "the first " + n + " of " + whole.length + " bytes parsed");
            assertTrue(e.getMessage().startsWith("bn.onnx: "), e.getMessage());
        }
        Path f = Files.write(dir.resolve("cut.onnx"), Arrays.copyOf(whole, whole.length / 2));
        var e = assertThrows(IOException.class, () -> Onnx.load(f));
        assertTrue(e.getMessage().startsWith(f + ": not a readable ONNX model (truncated or corrupt?)"), e.getMessage());
    }

    @Test
    void changedBytesGiveAModelOrAnErrorNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(OnnxFixtures.committed(dir).onnx());
        SplittableRandom r = new SplittableRandom(17);
        int loaded = 0, refused = 0;
        for (int i = 0; i < 2000; i++) {
            byte[] b = whole.clone();
            for (int k = 1 + r.nextInt(3); k > 0; k--) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            try {
                Onnx.of(OnnxFile.parse(b, "bn.onnx"), "bn.onnx");
                loaded++;   // e.g. a changed weight: still a model
            } catch (IOException | IllegalArgumentException e) {
                assertTrue(e.getMessage().startsWith("bn.onnx: "), "case " + i + ": " + e);
                refused++;
            }
        }
        assertTrue(loaded > 0 && refused > 0, loaded + " loaded, " + refused + " refused");
    }

    /** Bad files while a predictor serves: each load fails on its own; the callers get the same bits before, during and after. */
    @Test
    void aPredictorKeepsServingWhileBadModelFilesAreRefused(@TempDir Path dir) throws Exception {
        OnnxFixtures.Case c = OnnxFixtures.committed(dir);
        Path bad = Files.write(dir.resolve("recurrent.onnx"), unsupported());
        byte[] whole = Files.readAllBytes(c.onnx());
        Path cut = Files.write(dir.resolve("cut.onnx"), Arrays.copyOf(whole, whole.length - 100));
        try (Predictor p = Predictor.of(Onnx.load(c.onnx()), 2, 4)) {
            int in = p.inputSize();
            float[] row = Arrays.copyOf(c.x(), in), expected = p.predict(row);
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<Integer>> callers = new ArrayList<>();
                for (int t = 0; t < 2; t++) callers.add(pool.submit(() -> {
                    int calls = 0;
                    float[] out = new float[p.outputSize()];
                    do {
                        p.predict(row, 1, out);
                        assertArrayEquals(expected, out);
                        calls++;
                    } while (!stop.get());
                    return calls;
                }));
                for (int i = 0; i < 5; i++) {
                    var u = assertThrows(IllegalArgumentException.class, () -> Onnx.load(bad));
                    assertTrue(u.getMessage().contains("LSTM (node 'lstm')"), u.getMessage());
                    var t = assertThrows(IOException.class, () -> Onnx.load(cut));
                    assertTrue(t.getMessage().startsWith(cut.toString()), t.getMessage());
                    var s = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[in + 1]));
                    assertTrue(s.getMessage().contains("not a whole number of rows"), s.getMessage());
                }
                stop.set(true);
                for (Future<Integer> f : callers) assertTrue(f.get(120, TimeUnit.SECONDS) > 0);
            } finally {
                stop.set(true);
                pool.shutdownNow();
            }
            assertArrayEquals(expected, p.predict(row));
        }
    }
}
