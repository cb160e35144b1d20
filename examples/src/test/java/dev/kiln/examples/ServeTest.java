package dev.kiln.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ServeTest {
    @Test
    void bothEndpointsAnswerEveryRequestOfTheBoundedLoad(@TempDir Path out) throws Exception {
        List<Serve.Load> loads = Serve.run(out, 4, 200, 60, false);
        assertEquals(List.of("/predict", "/predict-batched"), loads.stream().map(Serve.Load::endpoint).toList());
        for (Serve.Load l : loads) {
            assertEquals(200, l.requests(), l.endpoint() + ": every request of the bound sent");
            assertEquals(0, l.errors(), l.endpoint() + ": no request failed");
            assertTrue(l.p50Ms() > 0 && l.p99Ms() >= l.p50Ms(), l.endpoint() + ": latencies p50 " + l.p50Ms() + " p99 " + l.p99Ms());
        }
        assertTrue(Files.size(out.resolve("served.kiln")) > 0, "the served model was saved first");
    }
}
