package dev.kiln.examples;

import dev.kiln.backend.Backend;
import dev.kiln.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The part of the GPU machine's lessons that runs here: without a CUDA device GpuLessons says why in one line, writes
 * that to its JSON file and trains nothing; and the accuracy verdict's half-point margin. The lessons themselves need
 * a GPU (scripts/gpu-run.sh).
 */
class GpuLessonsTest {
    @Test
    void withoutADeviceItSaysWhyAndTrainsNothing(@TempDir Path dir) throws Exception {
        boolean present = Backend.all().stream().anyMatch(b -> b.name().equals("cuda") && b.availability().present());
        assumeFalse(present, "a CUDA device is present: the no-device path cannot be seen here (the GPU run covers the lessons)");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Path file = dir.resolve("kiln-lessons.json");
        Map<String, Object> out = GpuLessons.run(List.of("m3", "transfer", "bf16"), 1, file, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("GPU lessons: NO CUDA device ("), text);
        assertEquals(1, text.strip().lines().count(), "one line: " + text);
        assertEquals(false, out.get("cuda_present"));
        assertFalse(out.containsKey("m3"), "nothing trained: " + out.keySet());
        Map<?, ?> written = (Map<?, ?>) Json.parse(Files.readAllBytes(file));
        assertEquals(false, written.get("cuda_present"));
        assertEquals(out.get("cuda_summary"), written.get("cuda_summary"));
    }

    @Test
    void cudaReachesTheCpusAccuracyWithinHalfAPoint() {
        assertTrue(GpuLessons.reaches(0.8800, 0.8800));
        assertTrue(GpuLessons.reaches(0.8800, 0.8751));
        assertTrue(GpuLessons.reaches(0.8800, 0.9100));
        assertFalse(GpuLessons.reaches(0.8800, 0.8749));
    }
}
