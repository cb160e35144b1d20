package dev.kiln.train;

import dev.kiln.cpu.CpuBackend;
import dev.kiln.data.Dataset;
import dev.kiln.io.Json;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The training page's server and report without a browser (DashboardBrowserTest loads them in Chromium). */
class DashboardTest {
    @Test
    @SuppressWarnings("unchecked")
    void theServerGivesEveryBatchAndEpochAndTheReportInlinesThemWithTheChartLibrary(@TempDir Path dir) throws Exception {
        float[] x = new float[50], y = new float[50];
        for (int i = 0; i < 50; i++) { x[i] = i / 50f; y[i] = 1 - x[i]; }
        Dataset d = Dataset.of(x, Shape.of(50, 1), y, Shape.of(50, 1));
        Model m = Sequential.of(Input.shape(1), Dense.of(1)).seed(2);
        m.backend(new CpuBackend());
        m.compile(Sgd.lr(0.1), Loss.mse());
        List<Float> batchLosses = new ArrayList<>();
        Callback record = new Callback() {
            @Override public void onBatchEnd(TrainingState s, int batch, BatchLogs logs) { batchLosses.add((float) logs.batchLoss()); }
        };
        Path report = dir.resolve("report.html");
        try (Dashboard page = Dashboard.on(0).report(report).printTo(new PrintStream(new ByteArrayOutputStream()))) {
            History h = m.fit(d, Fit.epochs(3).batchSize(20).shuffle(false).verbose(false).callbacks(page, record));
            HttpClient http = HttpClient.newHttpClient();
            String json = http.send(HttpRequest.newBuilder(page.uri().resolve("data.json")).build(), HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Object> run = ((List<Map<String, Object>>) ((Map<String, Object>) Json.parse(json)).get("runs")).get(0);
            Map<String, Object> batches = (Map<String, Object>) run.get("batches");
            // 50 rows in batches of 20: 3 a epoch, 9 in all
            assertEquals(9, batchLosses.size());
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), ((List<Object>) batches.get("step")).stream().map(o -> ((Number) o).longValue()).toList());
            assertEquals(batchLosses, ((List<Object>) batches.get("batch_loss")).stream().map(o -> ((Number) o).floatValue()).toList(), "each batch's loss, at float precision");
            Map<String, Object> epochs = (Map<String, Object>) run.get("epochs_logged");
            List<Object> loss = (List<Object>) epochs.get("loss");
            assertEquals(3, loss.size());
            for (int e = 0; e < 3; e++) assertEquals((float) (double) h.get("loss").get(e), ((Number) loss.get(e)).floatValue());
            assertEquals(true, run.get("done"));
            assertTrue(((String) run.get("summary")).contains("Total params: 2"), (String) run.get("summary"));

            String live = http.send(HttpRequest.newBuilder(page.uri()).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(live.contains("const KILN_DATA = null;"), "the live page polls");
        }
        String html = Files.readString(report);
        assertTrue(html.contains("/*! https://github.com/leeoniya/uPlot (v1.6.32) */"), "uPlot inlined");
        assertFalse(html.matches("(?s).*<script[^>]+src=.*") || html.contains("<link"), "the report loads nothing from elsewhere");
        int at = html.indexOf("const KILN_DATA = ") + "const KILN_DATA = ".length();
        String inlined = html.substring(at, html.indexOf(";\n", at)).replace("<\\/", "</");
        Map<String, Object> run = ((List<Map<String, Object>>) ((Map<String, Object>) Json.parse(inlined)).get("runs")).get(0);
        assertEquals(9, ((List<Object>) ((Map<String, Object>) run.get("batches")).get("batch_loss")).size());
    }

    @Test
    void aPortOutOfRangeIsRefusedWithTheRule() {
        var e = assertThrows(IllegalArgumentException.class, () -> Dashboard.on(70000));
        assertTrue(e.getMessage().contains("[0, 65535]"), e.getMessage());
    }
}
