package dev.kiln.backend;

import dev.kiln.compile.Program;
import dev.kiln.graph.Node;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.*;

class BackendChoiceTest {
    private record Fake(String name, int priority, Availability availability) implements Backend {
        public Executable compile(Program program) { throw new UnsupportedOperationException(); }
        public void evaluate(Node node, float[][] inputs, float[] out) { throw new UnsupportedOperationException(); }
    }

    /** Records what reaches java.util.logging, where System.Logger goes when no other finder is installed. */
    private static List<LogRecord> capture(Runnable r) {
        Logger jul = Logger.getLogger("dev.kiln.backend");
        List<LogRecord> seen = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord rec) { seen.add(rec); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        Level old = jul.getLevel();
        jul.addHandler(h);
        jul.setLevel(Level.ALL);
        try { r.run(); } finally { jul.removeHandler(h); jul.setLevel(old); }
        return seen;
    }

    private static List<LogRecord> atLeast(List<LogRecord> rs, Level l) {
        List<LogRecord> out = new ArrayList<>();
        for (LogRecord r : rs) if (r.getLevel().intValue() >= l.intValue()) out.add(r);
        return out;
    }

    @Test
    void aPresentButUnusableBackendIsReportedOnceAsAWarningWithItsFix() {
        Backend gpu = new Fake("gpu-test-1", 100, Availability.presentButUnusable("libcudnn.so.9 not found",
                List.of("libcuda.so.1: loaded", "libcudnn.so.9 not found: install cuDNN 9 (apt install libcudnn9-cuda-12)")));
        Backend cpu = new Fake("cpu-test", 10, Availability.usable("CPU", List.of()));
        List<LogRecord> first = capture(() -> assertSame(cpu, BackendChoice.choose(List.of(gpu, cpu))));
        List<LogRecord> warnings = atLeast(first, Level.WARNING);
        assertEquals(1, warnings.size(), "one warning for the GPU passed over");
        String msg = warnings.get(0).getMessage();
        assertTrue(msg.contains("gpu-test-1") && msg.contains("libcudnn.so.9 not found") && msg.contains("install cuDNN 9"), msg);
        List<LogRecord> second = capture(() -> BackendChoice.choose(List.of(gpu, cpu)));
        assertEquals(0, atLeast(second, Level.WARNING).size(), "said once per JVM, not for every model");
    }

    @Test
    void anAbsentBackendIsPassedOverQuietly() {
        Backend gpu = new Fake("gpu-test-2", 100, Availability.unavailable("libcuda.so.1 not found (no NVIDIA driver)", List.of("no driver")));
        Backend cpu = new Fake("cpu-test", 10, Availability.usable("CPU", List.of()));
        List<LogRecord> logs = capture(() -> assertSame(cpu, BackendChoice.choose(List.of(gpu, cpu))));
        assertEquals(0, atLeast(logs, Level.INFO).size());
        assertTrue(logs.stream().anyMatch(r -> r.getMessage().contains("gpu-test-2 is not available here")), "still said at DEBUG (FINE)");
    }

    @Test
    void noUsableBackendIsAnErrorSayingWhatToAdd() {
        Backend gpu = new Fake("gpu-test-3", 100, Availability.unavailable("no driver", List.of()));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> BackendChoice.choose(List.of(gpu)));
        assertTrue(e.getMessage().contains("kiln-cpu"), e.getMessage());
    }
}
