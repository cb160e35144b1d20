package dev.kiln.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.data.Dataset;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.serve.MicroBatcher;
import dev.kiln.serve.Predictor;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A model served over HTTP with the JDK's own server ({@code com.sun.net.httpserver}), and a load generator that
 * measures it. The model (11 features -> 64 -> 64 -> 1, M1's shape made narrower) is trained, saved and loaded
 * back as a {@link Predictor}; the server answers {@code POST /predict} (each request its own call) and
 * {@code POST /predict-batched} (requests coalesced by a {@link MicroBatcher}, 1 ms window). The body is one row,
 * comma-separated; the answer the prediction. A wrong row gets 400 and the reason, a full queue 503.
 *
 * <p>The load generator runs in the same process, over loopback only, bounded in requests and in seconds: it
 * reports throughput, p50/p99 latency, errors, and the heap after a GC at the start and end of each run.
 *
 * <pre>{@code ./kiln run serve [--clients N] [--requests N] [--seconds N] [--out DIR]}</pre>
 *
 * <p>{@code --overload} runs {@link ServeOverload} instead: the batched endpoint at 10 times its sustainable rate.
 */
public final class Serve {
    private Serve() {}

    public record Load(String endpoint, int requests, int errors, double seconds, double p50Ms, double p99Ms, long heapStartMb, long heapEndMb) {
        double throughput() { return requests / seconds; }
    }

    public static void main(String[] args) {
        ExampleMain.run("serve", "[--clients N] [--requests N] [--seconds N] [--out DIR] [--overload]", args, a -> {
            if (Outputs.hasFlag(a, "--overload")) {   // ServeOverload: sustainable rate, 10x it, then a quarter of it
                for (ServeOverload.Phase p : ServeOverload.run(Outputs.intFlag(a, "--seconds", 3), 64)) ServeOverload.print(p);
                return;
            }
            int clients = Outputs.intFlag(a, "--clients", 16), requests = Outputs.intFlag(a, "--requests", 4000), seconds = Outputs.intFlag(a, "--seconds", 30);
            if (clients < 1 || requests < 1 || seconds < 1) throw new ExampleMain.CommandLineException("--clients, --requests and --seconds must be >= 1");
            for (Load l : run(Outputs.folder("serve", a), clients, requests, seconds, true)) print(l);
        });
    }

    static void print(Load l) {
        System.out.printf(Locale.ROOT, "%-16s %6d requests in %5.1f s: %7.0f req/s, p50 %6.2f ms, p99 %6.2f ms, %d errors; heap after GC %d MB -> %d MB%n",
                l.endpoint(), l.requests(), l.seconds(), l.throughput(), l.p50Ms(), l.p99Ms(), l.errors(), l.heapStartMb(), l.heapEndMb());
    }

    /** Trains and saves the model, serves it, and loads each endpoint in turn: unbatched, then micro-batched. */
    public static List<Load> run(Path out, int clients, int requests, int seconds, boolean verbose) throws IOException, InterruptedException {
        Path file = out.resolve("served.kiln");
        train().save(file);
        if (verbose) System.out.println("Trained and saved " + file + "; serving it on loopback");
        try (Predictor predictor = Predictor.load(file);
             MicroBatcher batcher = MicroBatcher.of(predictor, Duration.ofMillis(1), 4096, MicroBatcher.Overload.REJECT)) {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
            ExecutorService handlers = Executors.newFixedThreadPool(Math.max(clients, 4));
            server.setExecutor(handlers);
            server.createContext("/predict", ex -> answer(ex, predictor.inputSize(), predictor::predict));
            server.createContext("/predict-batched", ex -> answer(ex, predictor.inputSize(), batcher::predict));
            server.start();
            try {
                URI base = URI.create("http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort());
                List<Load> loads = new ArrayList<>();
                for (String endpoint : List.of("/predict", "/predict-batched")) {
                    loads.add(load(base.resolve(endpoint), endpoint, predictor.inputSize(), clients, requests, seconds));
                }
                if (verbose) System.out.println("micro-batcher: " + batcher.rows() + " rows in " + batcher.batches() + " batches");
                return loads;
            } finally {
                server.stop(0);
                handlers.shutdownNow();
            }
        }
    }

    static Model train() {
        int n = 2048, f = 11;
        float[] x = new float[n * f], y = new float[n];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < f; j++) { x[i * f + j] = (float) r.nextDouble(-1, 1); s += (j + 1) * x[i * f + j] * x[i * f + j]; }
            y[i] = (float) s;
        }
        Model m = Sequential.of(Input.shape(f), Dense.of(64).relu(), Dense.of(64).relu(), Dense.of(1)).seed(1);
        m.compile(Adam.lr(1e-2), Loss.mae());
        m.fit(Dataset.of(x, Shape.of(n, f), y, Shape.of(n, 1)), Fit.epochs(5).batchSize(64).verbose(false));
        return m;
    }

    private static void answer(HttpExchange ex, int inputSize, Function<float[], float[]> predict) throws IOException {
        try (ex) {
            int status;
            String body;
            try {
                if (!ex.getRequestMethod().equals("POST")) throw new IllegalArgumentException("use POST with one row of " + inputSize + " comma-separated numbers");
                String text = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).strip();
                String[] parts = text.split(",");
                float[] row = new float[parts.length];
                for (int i = 0; i < parts.length; i++) row[i] = Float.parseFloat(parts[i].strip());
                body = Arrays.toString(predict.apply(row));
                status = 200;
            } catch (NumberFormatException e) {
                status = 400; body = "not a number: " + e.getMessage();
            } catch (IllegalArgumentException e) {
                status = 400; body = e.getMessage();
            } catch (RejectedExecutionException e) {
                status = 503; body = e.getMessage();
            }
            byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, bytes.length);
            ex.getResponseBody().write(bytes);
        }
    }

    /** {@code clients} threads send rows until {@code requests} were sent or {@code seconds} passed. */
    static Load load(URI uri, String endpoint, int inputSize, int clients, int requests, int seconds) throws InterruptedException {
        long heapStart = heapAfterGcMb();
        long[] latency = new long[requests];
        AtomicInteger next = new AtomicInteger(), errors = new AtomicInteger();
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                fs.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < requests && System.nanoTime() < deadline; ) {
                        SplittableRandom r = new SplittableRandom(i);
                        StringBuilder row = new StringBuilder();
                        for (int j = 0; j < inputSize; j++) row.append(j == 0 ? "" : ",").append((float) r.nextDouble(-1, 1));
                        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(row.toString())).build();
                        long s = System.nanoTime();
                        try {
                            HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
                            if (resp.statusCode() != 200) errors.incrementAndGet();
                        } catch (IOException e) {
                            errors.incrementAndGet();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                        latency[i] = System.nanoTime() - s;
                    }
                }));
            }
            for (Future<?> f : fs) {
                try { f.get(); } catch (java.util.concurrent.ExecutionException e) { throw new IllegalStateException("load generator thread failed", e.getCause()); }
            }
        } finally {
            pool.shutdownNow();
            client.close();
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        int done = Math.min(next.get(), requests);
        long[] sorted = Arrays.copyOf(latency, done);
        Arrays.sort(sorted);
        int sent = 0;
        for (long l : sorted) if (l > 0) sent++;
        long[] measured = Arrays.copyOfRange(sorted, done - sent, done);
        double p50 = measured.length == 0 ? Double.NaN : measured[(int) (0.50 * (measured.length - 1))] / 1e6;
        double p99 = measured.length == 0 ? Double.NaN : measured[(int) (0.99 * (measured.length - 1))] / 1e6;
        return new Load(endpoint, sent, errors.get(), elapsed, p50, p99, heapStart, heapAfterGcMb());
    }

    private static long heapAfterGcMb() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024);
    }
}
