package dev.kiln.train;

import dev.kiln.cpu.CpuBackend;
import dev.kiln.data.Dataset;
import dev.kiln.graph.Variable;
import dev.kiln.io.Json;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The TensorBoard callback's event files, read back by an independent reader (src/test/resources/.../read_tfevents.py:
 * its own CRC32C and protobuf wire decoding, Python's standard library only): every record's CRCs check, and the
 * scalars and histograms are the values training produced.
 */
class TensorBoardTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    private static Dataset data(int n, int seed) {
        float[] x = new float[n * 2], y = new float[n];
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < n; i++) {
            x[2 * i] = r.nextFloat(); x[2 * i + 1] = r.nextFloat();
            y[i] = 2 * x[2 * i] - x[2 * i + 1] + 0.5f;
        }
        return Dataset.of(x, Shape.of(n, 2), y, Shape.of(n, 1));
    }

    /** What training produced, seen by a callback after the TensorBoard one. */
    private static final class Recorder implements Callback {
        final List<Float> batchLosses = new ArrayList<>();
        final List<Long> batchSteps = new ArrayList<>();
        final List<Map<String, Double>> epochs = new ArrayList<>();
        final List<Map<String, float[]>> weights = new ArrayList<>();
        @Override public void onBatchEnd(TrainingState s, int batch, BatchLogs logs) {
            batchLosses.add((float) logs.batchLoss());
            batchSteps.add(s.model().iterations());
        }
        @Override public void onEpochEnd(TrainingState s, int e, Map<String, Double> logs) {
            epochs.add(new LinkedHashMap<>(logs));
            Map<String, float[]> w = new LinkedHashMap<>();
            for (Variable v : s.model().weights()) w.put(v.name(), v.value().clone());
            weights.add(w);
        }
    }

    private static Path only(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            List<Path> files = s.toList();
            assertEquals(1, files.size(), "event files in " + dir + ": " + files);
            assertTrue(files.get(0).getFileName().toString().startsWith("events.out.tfevents."), files.get(0).toString());
            return files.get(0);
        }
    }

    /** The reader's events, or a failure with its message. */
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> read(Path events, Path dir) throws Exception {
        Path script = dir.resolve("read_tfevents.py");
        try (InputStream in = TensorBoardTest.class.getResourceAsStream("read_tfevents.py")) { Files.write(script, in.readAllBytes()); }
        Process p = new ProcessBuilder(PYTHON.toString(), script.toString(), events.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        if (p.exitValue() != 0) throw new AssertionError("read_tfevents.py " + events.getFileName() + ": " + out.strip());
        List<Map<String, Object>> all = new ArrayList<>();
        for (String line : out.strip().split("\n")) all.add((Map<String, Object>) Json.parse(line));
        return all;
    }

    private static double num(Object o) { return ((Number) o).doubleValue(); }

    @Test
    @SuppressWarnings("unchecked")
    void eventFilesReadBackWithValidCrcsAndTheTrainedValues(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), () -> { System.out.println("TensorBoardTest skipped: no " + PYTHON + " to run the independent reader"); return "no " + PYTHON; });
        Model m = Sequential.of(Input.shape(2), Dense.of(3).relu(), Dense.of(1)).seed(3);
        m.backend(new CpuBackend());
        m.compile(Sgd.lr(0.05), Loss.mse(), Metric.mae());
        Recorder rec = new Recorder();
        Path logs = dir.resolve("runs");
        m.fit(data(60, 1), Fit.epochs(3).batchSize(16).validation(data(20, 2)).verbose(false).callbacks(TensorBoard.to(logs).everyBatch(), rec));

        List<Map<String, Object>> train = read(only(logs.resolve("train")), dir);
        assertEquals("brain.Event:2", train.get(0).get("file_version"));
        List<Map<String, Object>> batchLoss = new ArrayList<>(), epochLoss = new ArrayList<>(), epochMae = new ArrayList<>(), histos = new ArrayList<>();
        for (Map<String, Object> e : train.subList(1, train.size())) {
            List<Map<String, Object>> values = (List<Map<String, Object>>) e.get("values");
            assertEquals(1, values.size());
            Map<String, Object> v = new LinkedHashMap<>(values.get(0));
            v.put("step", e.get("step"));
            switch ((String) v.get("tag")) {
                case "batch_loss" -> batchLoss.add(v);
                case "epoch_loss" -> epochLoss.add(v);
                case "epoch_mae" -> epochMae.add(v);
                case "batch_mae" -> {}
                default -> { assertTrue(v.containsKey("histo"), "unexpected tag " + v); histos.add(v); }
            }
        }
        // 60 rows in batches of 16: 4 steps per epoch, 12 in all
        assertEquals(12, rec.batchLosses.size());
        assertEquals(rec.batchLosses.size(), batchLoss.size());
        for (int i = 0; i < batchLoss.size(); i++) {
            assertEquals(rec.batchLosses.get(i), (float) num(batchLoss.get(i).get("simple_value")), "batch_loss " + i);
            assertEquals(rec.batchSteps.get(i), (long) num(batchLoss.get(i).get("step")));
        }
        assertEquals(3, epochLoss.size());
        for (int e = 0; e < 3; e++) {
            assertEquals(e, (long) num(epochLoss.get(e).get("step")));
            assertEquals((float) (double) rec.epochs.get(e).get("loss"), (float) num(epochLoss.get(e).get("simple_value")));
            assertEquals((float) (double) rec.epochs.get(e).get("mae"), (float) num(epochMae.get(e).get("simple_value")));
        }

        // one histogram per weight per epoch, of the weights as they were at that epoch's end
        int perEpoch = rec.weights.get(0).size();
        assertEquals(3 * perEpoch, histos.size());
        for (Map<String, Object> h : histos) {
            int e = (int) num(h.get("step"));
            float[] w = rec.weights.get(e).get((String) h.get("tag"));
            assertNotNull(w, "histogram of an unknown weight " + h.get("tag"));
            Map<String, Object> histo = (Map<String, Object>) h.get("histo");
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float f : w) { min = Math.min(min, f); max = Math.max(max, f); sum += f; }
            assertEquals(w.length, num(histo.get("num")));
            assertEquals(min, num(histo.get("min")));
            assertEquals(max, num(histo.get("max")));
            assertEquals(sum, num(histo.get("sum")), 1e-9);
            List<Object> limits = (List<Object>) histo.get("bucket_limit"), counts = (List<Object>) histo.get("bucket");
            assertEquals(limits.size(), counts.size());
            for (int b = 0; b < limits.size(); b++) {
                double lo = b == 0 ? Double.NEGATIVE_INFINITY : num(limits.get(b - 1)), hi = num(limits.get(b));
                int expected = 0;
                for (float f : w) if (f > lo && f <= hi) expected++;
                assertEquals(expected, num(counts.get(b)), "bucket " + b + " of " + h.get("tag") + " at epoch " + e);
            }
        }
        assertFalse(java.util.Arrays.equals(rec.weights.get(0).values().iterator().next(), rec.weights.get(2).values().iterator().next()), "the weights moved between epochs");

        List<Map<String, Object>> val = read(only(logs.resolve("validation")), dir);
        assertEquals("brain.Event:2", val.get(0).get("file_version"));
        List<Double> valLoss = new ArrayList<>();
        for (Map<String, Object> e : val.subList(1, val.size())) {
            Map<String, Object> v = ((List<Map<String, Object>>) e.get("values")).get(0);
            if (v.get("tag").equals("epoch_loss")) valLoss.add(num(v.get("simple_value")));
        }
        assertEquals(3, valLoss.size());
        for (int e = 0; e < 3; e++) assertEquals((float) (double) rec.epochs.get(e).get("val_loss"), (float) (double) valLoss.get(e));
    }

    @Test
    void aFitWithoutValidationDataWritesNoValidationFile(@TempDir Path dir) throws Exception {
        Model m = Sequential.of(Input.shape(2), Dense.of(1)).seed(3);
        m.backend(new CpuBackend());
        m.compile(Sgd.lr(0.05), Loss.mse());
        Path logs = dir.resolve("runs");
        m.fit(data(32, 1), Fit.epochs(2).batchSize(16).verbose(false).callbacks(TensorBoard.to(logs).histogramFreq(0)));
        assertTrue(Files.isRegularFile(only(logs.resolve("train"))));
        assertFalse(Files.exists(logs.resolve("validation")), "no validation data, no validation folder");
    }

    @Test
    void theReaderCatchesACorruptedRecord(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), "no " + PYTHON);
        Path d = dir.resolve("ev");
        try (EventFile f = EventFile.create(d, 1_700_000_000_000L, "host")) { f.scalar(1.7e9, 5, "x", 0.25); }
        Path file = only(d);
        assertEquals(2, read(file, dir).size());
        byte[] b = Files.readAllBytes(file);
        b[b.length - 6] ^= 1;   // a byte of the last record's data
        Files.write(file, b);
        AssertionError e = assertThrows(AssertionError.class, () -> read(file, dir));
        assertTrue(e.getMessage().contains("data CRC mismatch"), e.getMessage());
    }
}
