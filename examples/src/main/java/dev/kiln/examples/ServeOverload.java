package dev.kiln.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.serve.MicroBatcher;
import dev.kiln.serve.Predictor;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Overload of the micro-batched endpoint, over loopback: the service's sustainable rate is measured first (closed
 * loop), then requests arrive at 10 times that rate whatever the answers (open loop), then at a quarter of it.
 * The endpoint never blocks a server thread on the model: it queues the row on a {@link MicroBatcher} with a bounded
 * queue in {@link MicroBatcher.Overload#REJECT} mode and answers when the batch is done; a full queue answers 503
 * at once. So memory is bounded by the queue, and every request ends as answered (200), rejected (503) or failed
 * (anything else), each counted; a request with no end within the drain time is counted as lost.
 *
 * <pre>{@code ./kiln run serve --overload [--seconds N]}</pre>
 */
public final class ServeOverload {
    private ServeOverload() {}

    /** One phase: requests sent and how each ended; {@code maxQueued} is the most rows the batcher's queue held. */
    public record Phase(String name, double rateAsked, int sent, int ok, int rejected, int failed, int lost, double seconds, double p50Ms, double p99Ms, int maxQueued) {
        double rateSent() { return sent / seconds; }
    }

    /** The model served: wide enough (11 -> 1024 -> 1024 -> 1) that the model, not HTTP, sets the sustainable rate. */
    static Model model() { return Sequential.of(Input.shape(11), Dense.of(1024).relu(), Dense.of(1024).relu(), Dense.of(1)).seed(3).build(); }

    /** Serves {@link #model}, then runs the three phases of {@code seconds} each; {@code queue} rows wait at most. */
    public static List<Phase> run(double seconds, int queue) throws IOException, InterruptedException {
        try (Predictor predictor = Predictor.of(model(), 1, 8);
             MicroBatcher batcher = MicroBatcher.of(predictor, Duration.ofMillis(1), queue, MicroBatcher.Overload.REJECT)) {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
            ExecutorService handlers = Executors.newFixedThreadPool(4);
            server.setExecutor(handlers);
            server.createContext("/predict-batched", ex -> submit(ex, batcher, handlers));
            server.start();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).executor(Executors.newFixedThreadPool(4)).build();
            try {
                URI uri = URI.create("http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort() + "/predict-batched");
                // warm-up, not counted: every batch bucket compiled, the JIT and the HTTP connections warm
                for (int rows = 1; rows <= 8; rows *= 2) for (int i = 0; i < 20; i++) predictor.predict(new float[rows * 11]);
                closedLoop(client, uri, batcher, 8, Math.min(1.0, seconds));
                List<Phase> phases = new ArrayList<>();
                Phase base = closedLoop(client, uri, batcher, 8, seconds);
                phases.add(base);
                double sustainable = base.ok() / base.seconds();
                phases.add(openLoop(client, uri, batcher, "10x", 10 * sustainable, seconds));
                settle(batcher);
                phases.add(openLoop(client, uri, batcher, "recovery 0.25x", sustainable / 4, seconds));
                return phases;
            } finally {
                client.shutdownNow();
                server.stop(0);
                handlers.shutdownNow();
            }
        }
    }

    /**
     * Waits (up to 30 s) until the batcher has seen no row for 300 ms: a client that gave up on a connection (counted
     * as failed) may have left its request in the server's accept queue, still to arrive.
     */
    private static void settle(MicroBatcher b) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L, last = -1;
        while (System.nanoTime() < deadline) {
            long now = b.rows() + b.queued();
            if (now == last && b.queued() == 0) return;
            last = now;
            Thread.sleep(300);
        }
    }

    /** Parses the row on a server thread, queues it, and answers from the batch's completion: no thread waits on the model. */
    private static void submit(HttpExchange ex, MicroBatcher batcher, ExecutorService respond) throws IOException {
        float[] row;
        CompletableFuture<float[]> result;
        try {
            String[] parts = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).strip().split(",");
            row = new float[parts.length];
            for (int i = 0; i < parts.length; i++) row[i] = Float.parseFloat(parts[i].strip());
            result = batcher.submit(row);
        } catch (IllegalArgumentException e) {   // NumberFormatException too
            send(ex, 400, String.valueOf(e.getMessage()));
            return;
        } catch (RejectedExecutionException e) {
            send(ex, 503, e.getMessage());
            return;
        }
        result.whenCompleteAsync((y, err) -> {
            try {
                if (err == null) send(ex, 200, Arrays.toString(y)); else send(ex, 500, String.valueOf(err.getMessage()));
            } catch (IOException ignored) {
                // the client went away: nothing to answer
            }
        }, respond);
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        try (ex) {
            byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, bytes.length);
            ex.getResponseBody().write(bytes);
        }
    }

    /**
     * The most requests the client keeps in flight, as a load generator caps its connections. Each is a socket at
     * both ends in this one process: without a cap, 10x on a fast machine opened ~5,000 at once, hit the process's
     * open-file limit ("Too many open files"), and the sockets still closing failed the next phase too.
     */
    static final int MAX_IN_FLIGHT = 1000;

    private static final String ROW = "0.1,-0.2,0.3,-0.4,0.5,-0.6,0.7,-0.8,0.9,-1.0,0.25";

    /** Outcomes of one phase, counted by the responses' callbacks. */
    private static final class Tally {
        final AtomicInteger sent = new AtomicInteger(), ok = new AtomicInteger(), rejected = new AtomicInteger(), failed = new AtomicInteger();
        final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        volatile int maxQueued;
        final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(MAX_IN_FLIGHT);
        final java.util.concurrent.atomic.AtomicReference<String> firstError = new java.util.concurrent.atomic.AtomicReference<>();

        CompletableFuture<Void> send(HttpClient client, URI uri) {
            sent.incrementAndGet();
            if (!inFlight.tryAcquire()) {   // the client's connection cap: not sent, counted as failed
                failed.incrementAndGet();
                firstError.compareAndSet(null, "the client already has " + MAX_IN_FLIGHT + " requests in flight (its connection cap)");
                return CompletableFuture.completedFuture(null);
            }
            long t = System.nanoTime();
            HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(ROW)).build();
            return client.sendAsync(req, HttpResponse.BodyHandlers.ofString()).handle((resp, err) -> {
                if (err != null) { failed.incrementAndGet(); firstError.compareAndSet(null, String.valueOf(err)); }
                else if (resp.statusCode() == 200) { ok.incrementAndGet(); latencies.add(System.nanoTime() - t); }
                else if (resp.statusCode() == 503) rejected.incrementAndGet();
                else failed.incrementAndGet();
                inFlight.release();
                return null;
            });
        }

        Phase phase(String name, double rate, double seconds, List<CompletableFuture<Void>> pending) {
            // wait for every request's end (answer, refusal or error), up to 30 s; those still open are lost
            try {
                CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            } catch (Exception timeoutOrInterrupt) {
                // counted below as lost
            }
            long[] l = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            double p50 = l.length == 0 ? Double.NaN : l[(int) (0.50 * (l.length - 1))] / 1e6, p99 = l.length == 0 ? Double.NaN : l[(int) (0.99 * (l.length - 1))] / 1e6;
            int lost = sent.get() - ok.get() - rejected.get() - failed.get();
            if (firstError.get() != null) System.out.println(name + ": first client error: " + firstError.get());
            return new Phase(name, rate, sent.get(), ok.get(), rejected.get(), failed.get(), lost, seconds, p50, p99, maxQueued);
        }

        Thread sampler(MicroBatcher b) {
            return Thread.ofPlatform().daemon().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    maxQueued = Math.max(maxQueued, b.queued());
                    LockSupport.parkNanos(200_000);
                }
            });
        }
    }

    /** {@code clients} callers, each sending its next request when the last is answered: the rate the service sustains. */
    static Phase closedLoop(HttpClient client, URI uri, MicroBatcher b, int clients, double seconds) {
        Tally t = new Tally();
        Thread sampler = t.sampler(b);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        List<CompletableFuture<Void>> loops = new ArrayList<>();
        for (int c = 0; c < clients; c++) loops.add(loop(t, client, uri, end));
        Phase p = t.phase("sustainable", Double.NaN, seconds, loops);
        sampler.interrupt();
        return p;
    }

    private static CompletableFuture<Void> loop(Tally t, HttpClient client, URI uri, long end) {
        if (System.nanoTime() >= end) return CompletableFuture.completedFuture(null);
        return t.send(client, uri).thenCompose(v -> loop(t, client, uri, end));
    }

    /** Requests at {@code rate} per second for {@code seconds}, sent on time whatever the answers. */
    static Phase openLoop(HttpClient client, URI uri, MicroBatcher b, String name, double rate, double seconds) {
        Tally t = new Tally();
        Thread sampler = t.sampler(b);
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        long start = System.nanoTime(), n = (long) (rate * seconds);
        for (long i = 0; i < n; i++) {
            long due = start + (long) (i * 1e9 / rate);
            for (long wait; (wait = due - System.nanoTime()) > 0; ) LockSupport.parkNanos(wait);
            pending.add(t.send(client, uri));
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        Phase p = t.phase(name, rate, Math.max(elapsed, 1e-9), pending);
        sampler.interrupt();
        return p;
    }

    static void print(Phase p) {
        System.out.printf(Locale.ROOT, "%-15s asked %7.0f req/s, sent %7.0f req/s (%5d): %5d answered, %5d rejected (503), %d failed, %d lost; p50 %6.2f ms, p99 %7.2f ms; queue peak %d rows%n",
                p.name(), p.rateAsked(), p.rateSent(), p.sent(), p.ok(), p.rejected(), p.failed(), p.lost(), p.p50Ms(), p.p99Ms(), p.maxQueued());
    }
}
