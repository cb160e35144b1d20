package dev.kiln.train;

import dev.kiln.cpu.CpuBackend;
import dev.kiln.data.Dataset;
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

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The training page end to end in headless Chromium: the live page (served by the training JVM) and the report
 * (opened from its file after the server is closed) draw, in uPlot's own state, as many points as steps were logged;
 * a screenshot is kept in target/dashboard-test/.
 */
class DashboardBrowserTest {
    private static Dataset data(int n, int seed) {
        float[] x = new float[n * 2], y = new float[n];
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < n; i++) {
            x[2 * i] = r.nextFloat(); x[2 * i + 1] = r.nextFloat();
            y[i] = 2 * x[2 * i] - x[2 * i + 1] + 0.5f;
        }
        return Dataset.of(x, Shape.of(n, 2), y, Shape.of(n, 1));
    }

    /** Counts what training logged, independently of the dashboard; at step {@code lookAt} loads the live page, training paused. */
    private static final class Counter implements Callback {
        final Dashboard page;
        final int lookAt;
        int batches, epochs;
        String midway;
        Counter(Dashboard page, int lookAt) { this.page = page; this.lookAt = lookAt; }
        @Override public void onBatchEnd(TrainingState s, int batch, BatchLogs logs) {
            if (++batches != lookAt) return;
            try {
                midway = HeadlessChromium.dumpDom(page.uri().toString(), 3000);
            } catch (Exception e) {
                throw new AssertionError("loading the live page during training", e);
            }
        }
        @Override public void onEpochEnd(TrainingState s, int e, Map<String, Double> logs) { epochs++; }
    }

    /** data-points of the chart element {@code id} in the last run section of the dumped DOM. */
    private static int points(String dom, String id) {
        Matcher m = Pattern.compile("<div [^>]*data-chart=\"" + Pattern.quote(id) + "\"[^>]*>").matcher(dom);
        assertTrue(m.find(), "no chart " + id + " in the page:\n" + dom.substring(0, Math.min(2000, dom.length())));
        Matcher p = Pattern.compile("data-points=\"(\\d+)\"").matcher(m.group());
        assertTrue(p.find(), "chart " + id + " drew nothing: " + m.group());
        return Integer.parseInt(p.group(1));
    }

    @Test
    void theLivePageAndTheOfflineReportPlotEveryLoggedStep(@TempDir Path dir) throws Exception {
        String why = HeadlessChromium.unavailable();
        if (why != null) System.out.println("DashboardBrowserTest skipped: " + why);
        Assumptions.assumeTrue(why == null, why);

        Model m = Sequential.of(Input.shape(2), Dense.of(4).relu(), Dense.of(1)).seed(7);
        m.backend(new CpuBackend());
        m.compile(Sgd.lr(0.05), Loss.mse(), Metric.mae());
        Path report = dir.resolve("out/dashboard.html");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (Dashboard page = Dashboard.on(0).report(report).printTo(new PrintStream(printed, true))) {
            Counter counted = new Counter(page, 8);
            // 70 rows in batches of 16: 5 steps per epoch (the last partial), 4 epochs
            m.fit(data(70, 1), Fit.epochs(4).batchSize(16).validation(data(20, 2)).verbose(false).callbacks(page, counted));
            assertEquals(20, counted.batches);
            // during training (epoch 2 of 4, its third batch): the curve so far, the state and an ETA
            assertEquals(8, points(counted.midway, "batch:loss"), "live page during training");
            assertEquals(1, points(counted.midway, "epoch:loss"), "live page during training, per epoch");
            assertTrue(counted.midway.contains("data-field=\"state\">training<"), "state: training");
            assertTrue(counted.midway.matches("(?s).*data-field=\"ETA\">[0-9]+ (ms|s|min [0-9]+ s)<.*"), "an ETA is shown");
            assertTrue(printed.toString().contains("Kiln dashboard: " + page.uri()), printed.toString());

            Path shot = Path.of("target/dashboard-test/dashboard.png");
            Files.createDirectories(shot.getParent());
            Files.deleteIfExists(shot);
            String live = HeadlessChromium.dumpDomAndScreenshot(page.uri().toString(), 4000, shot, 1500, 1100);
            assertEquals(counted.batches, points(live, "batch:loss"), "live page, loss per batch");
            assertEquals(counted.batches, points(live, "batch:mae"), "live page, mae per batch");
            assertEquals(counted.epochs, points(live, "epoch:loss"), "live page, loss per epoch");
            assertTrue(live.contains("data-steps=\"" + counted.batches + "\""), "the run section's step count");
            assertTrue(live.contains("dense"), "the model summary is on the page");
            assertTrue(live.matches("(?s).*data-field=\"samples/s\">[0-9,]+<.*"), "samples/s shown");
            assertTrue(live.matches("(?s).*<body[^>]* data-polls=\"[1-9][0-9]*\".*"), "the page polled its server");

            byte[] png = Files.readAllBytes(shot);
            assertTrue(png.length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a PNG screenshot of " + png.length + " bytes");
        }

        // the report, opened from its file with the server gone: everything it draws is inlined
        String html = Files.readString(report);
        assertFalse(html.matches("(?s).*<script[^>]+src=.*") || html.contains("<link"), "the report loads nothing from elsewhere");
        int batches = 20, epochs = 4;
        String offline = HeadlessChromium.dumpDom(report.toUri().toString(), 3000);
        assertEquals(batches, points(offline, "batch:loss"), "report, loss per batch");
        assertEquals(epochs, points(offline, "epoch:loss"), "report, loss per epoch");
    }
}
