package dev.kiln.bench;

import dev.kiln.cuda.MultiGpu;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The GPU run's data-parallel step where there is no GPU: one line that says so, nothing trained. */
class MultiGpuRunTest {
    @Test
    void withoutAGpuItSaysSoAndTrainsNothing() {
        assumeTrue(MultiGpu.visibleGpus() == 0, "a GPU is visible here: MultiGpuRun would train on it (the GPU run does that)");
        PrintStream before = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            MultiGpuRun.main(new String[0]);
        } finally {
            System.setOut(before);
        }
        assertEquals("multi-GPU: no CUDA device visible: data-parallel training not run\n", out.toString(StandardCharsets.UTF_8));
    }
}
