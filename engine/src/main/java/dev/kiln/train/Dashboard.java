package dev.kiln.train;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A live training page: a callback that serves, on localhost, the loss and metric curves per batch and per epoch,
 * the model summary, samples/s and the ETA of every {@code fit} it is given to (the page polls {@code data.json}).
 * After each {@code fit} it writes a self-contained HTML report (data and charting library inlined: it opens with
 * no network). The charts are drawn by uPlot, vendored from npm into the engine's resources (scripts/vendor-uplot.sh).
 *
 * <pre>{@code
 * model.fit(train, Fit.epochs(10).validation(test).dashboard());          // the shared page: prints its address
 * model.fit(train, Fit.epochs(10).callbacks(Dashboard.on(8080).report(Path.of("out/dashboard.html"))));
 * }</pre>
 *
 * <p>The server starts with the first {@code fit} and serves until {@link #close}: the JVM does not exit while it
 * serves, so the page stays readable after training (stop the program with Ctrl-C). With the system property
 * {@code kiln.dashboard} set (to a port; 0 picks a free one), every {@code fit} in the JVM reports to the
 * {@link #shared} page: that is how {@code ./kiln run <example> --dashboard} turns it on.
 */
public final class Dashboard implements Callback, AutoCloseable {
    /** The system property that turns the shared page on for every {@code fit} (its value: the port). */
    public static final String PROPERTY = "kiln.dashboard";
    /** The system property naming the shared page's report file (default {@code kiln-out/dashboard.html}). */
    public static final String REPORT_PROPERTY = "kiln.dashboard.report";
    private static final String RESOURCES = "dashboard/";
    private static Dashboard shared;

    private final int port;
    private final Path report;
    private final PrintStream out;
    private final List<RunLog> runs = new ArrayList<>();
    private RunLog current;
    private HttpServer server;

    private Dashboard(int port, Path report, PrintStream out) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("dashboard port must be in [0, 65535] (0: any free port), got " + port);
        this.port = port;
        this.report = report;
        this.out = out;
    }

    /** A page on {@code port} of localhost (0: a free port, printed when it starts), with no report file. */
    public static Dashboard on(int port) { return new Dashboard(port, null, System.out); }

    /** The same page, writing its self-contained report to {@code html} after each {@code fit}. */
    public Dashboard report(Path html) { return new Dashboard(port, html, out); }

    /** The same page, printing its address and report to {@code stream} instead of standard output. */
    public Dashboard printTo(PrintStream stream) { return new Dashboard(port, report, stream); }

    /**
     * The one page of this JVM that {@code Fit.dashboard()} and {@code -Dkiln.dashboard} report to: its port is the
     * property {@value #PROPERTY} (0 when unset), its report {@value #REPORT_PROPERTY} (default kiln-out/dashboard.html).
     */
    public static synchronized Dashboard shared() {
        if (shared == null) {
            String p = System.getProperty(PROPERTY, "0").strip();
            int port;
            try {
                port = p.isEmpty() || p.equals("true") ? 0 : Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + p + ": give a port number (0: any free port)", e);
            }
            shared = on(port).report(Path.of(System.getProperty(REPORT_PROPERTY, "kiln-out/dashboard.html")));
        }
        return shared;
    }

    /** The shared page when {@value #PROPERTY} is set, else null (the trainer adds it to every {@code fit}). */
    static Dashboard fromSystemProperty() { return System.getProperty(PROPERTY) == null ? null : shared(); }

    /** Starts the server if it is not running; its address. */
    public synchronized URI start() {
        if (server == null) {
            try {
                server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
            } catch (IOException e) {
                throw new UncheckedIOException("dashboard: cannot listen on localhost port " + port + " (" + e.getMessage() + "); choose another port, or 0 for any free one", e);
            }
            server.createContext("/", this::handle);
            server.start();
            out.println("Kiln dashboard: " + uri() + " (open it in a browser)");
        }
        return uri();
    }

    /** The page's address (the server must be started). */
    public synchronized URI uri() {
        if (server == null) throw new IllegalStateException("the dashboard is not started: it starts with the first fit, or call start()");
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    /** Whether the server is running. */
    public synchronized boolean serving() { return server != null; }

    /** The report file, or null. */
    public Path reportFile() { return report; }

    /** Batches logged so far by the latest {@code fit} (0 before any). */
    public synchronized int steps() { return current == null ? 0 : current.steps(); }

    @Override public synchronized void close() {
        if (server != null) server.stop(0);
        server = null;
    }

    @Override public void onTrainBegin(TrainingState state) {
        start();
        Trainable m = state.model();
        RunLog run = new RunLog(m.name(), summaryOf(m), state.epochs(), state.batchesPerEpoch(), state.examples(), System.nanoTime());
        synchronized (this) {
            runs.add(run);
            current = run;
        }
    }

    private static String summaryOf(Trainable m) {
        try {
            return m.summary();
        } catch (RuntimeException e) {
            return m.name() + " (no summary: " + e.getMessage() + ")";
        }
    }

    @Override public void onEpochBegin(TrainingState state, int epoch) { current.epochBegin(epoch); }

    @Override public void onBatchEnd(TrainingState state, int batch, BatchLogs logs) { current.batch(batch, logs, System.nanoTime()); }

    @Override public void onEpochEnd(TrainingState state, int epoch, Map<String, Double> logs) { current.epochEnd(epoch, logs); }

    @Override public void onTrainEnd(TrainingState state) {
        current.end();
        if (report != null) {
            writeReport(report);
            out.println("Kiln dashboard: report written to " + report.toAbsolutePath().normalize() + " (opens offline)");
        }
    }

    /** Every run so far as JSON (what the page polls). */
    public String json() {
        List<Object> all = new ArrayList<>();
        List<RunLog> copy;
        synchronized (this) { copy = List.copyOf(runs); }
        for (RunLog r : copy) all.add(r.toMap());
        return Json.write(Map.of("runs", all));
    }

    /** Writes the self-contained report (every run so far) to {@code html}, atomically. */
    public void writeReport(Path html) {
        try {
            Path abs = html.toAbsolutePath();
            if (abs.getParent() != null) Files.createDirectories(abs.getParent());
            Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
            Files.writeString(tmp, page(json()));
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("dashboard: cannot write the report " + html + " (" + e.getMessage() + ")", e);
        }
    }

    /** The page: uPlot and the page's script inlined; {@code data} inlined (the report) or null (live: it polls). */
    static String page(String data) {
        String inlined = data == null ? "null" : data.replace("</", "<\\/");
        return resource("dashboard.html")
                .replace("/*KILN_UPLOT_CSS*/", resource("uPlot.min.css"))
                .replace("/*KILN_DASHBOARD_JS*/", resource("dashboard.js"))
                .replace("/*KILN_UPLOT_JS*/", resource("uPlot.iife.min.js"))
                .replace("/*KILN_DATA*/null", inlined);
    }

    private static String resource(String name) {
        try (InputStream in = Dashboard.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) throw new IllegalStateException("dashboard resource " + RESOURCES + name + " is missing from the engine jar; rebuild it (scripts/vendor-uplot.sh restores uPlot)");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            byte[] body;
            String type;
            if (path.equals("/") || path.equals("/index.html")) {
                body = page(null).getBytes(StandardCharsets.UTF_8);
                type = "text/html; charset=utf-8";
            } else if (path.equals("/data.json")) {
                body = json().getBytes(StandardCharsets.UTF_8);
                type = "application/json";
            } else {
                x.sendResponseHeaders(404, -1);
                return;
            }
            x.getResponseHeaders().set("Content-Type", type);
            x.getResponseHeaders().set("Cache-Control", "no-store");
            x.sendResponseHeaders(200, body.length);
            try (OutputStream o = x.getResponseBody()) { o.write(body); }
        }
    }
}
