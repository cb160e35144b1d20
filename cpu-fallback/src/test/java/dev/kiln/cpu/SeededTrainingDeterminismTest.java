package dev.kiln.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The same seed gives the same weights whatever the JIT has done (issue 14): the model trained first in a
 * cold JVM, before C2 has compiled the kernels, and again after warm-up, on 1 and on 2 threads, two models at once,
 * and straight versus saved-and-resumed, all end with the same weights and Adam slots, bit for bit.
 *
 * <p>Each thread count runs in a child JVM ({@link SeededTrainingRun}): the pool's size is fixed per JVM, and the
 * first run must meet interpreted and C1 code. {@code -XX:CompileThresholdScaling=0.1} only shortens the warm-up;
 * C2 compiles the kernels within the child's warm-up (1,000 steps, a few seconds), so the warm run runs C2's code.
 * On main before the fix (reduceLanes(ADD) in the vector sums) the warm runs differed from the cold one in every
 * weight.
 */
class SeededTrainingDeterminismTest {
    @TempDir Path dir;

    @Test
    void sameSeedGivesBitIdenticalWeightsColdOrWarmOnOneOrTwoThreadsConcurrentOrResumed() throws Exception {
        float[] reference = null;
        for (int threads : new int[] {1, 2}) {
            Path out = dir.resolve("threads-" + threads);
            runChild(threads, out);
            if (reference == null) reference = read(out.resolve("cold.bin"));
            String where = threads + " thread" + (threads == 1 ? "" : "s");
            for (String run : List.of("cold", "warm", "concurrent-0", "concurrent-1")) {
                assertBitIdentical(reference, read(out.resolve(run + ".bin")), run + " run on " + where + " vs the cold run on 1 thread");
            }
            assertBitIdentical(read(out.resolve("straight.bin")), read(out.resolve("resumed.bin")), "resumed run after warm-up on " + where + " vs straight");
        }
    }

    private static void runChild(int threads, Path out) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:CompileThresholdScaling=0.1", "-Dkiln.threads=" + threads,
                "-cp", System.getProperty("java.class.path"), SeededTrainingRun.class.getName(), out.toString()));
        Path log = out.resolveSibling(out.getFileName() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // a generous bound against a hang: the child takes ~10 s on 2 busy cores
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the child JVM training on " + threads + " threads did not finish in 300 s; its output: " + Files.readString(log));
        }
        assertEquals(0, p.exitValue(), () -> "the child JVM training on " + threads + " threads failed; its output:\n" + readQuietly(log));
    }

    private static String readQuietly(Path log) {
        try { return Files.readString(log); } catch (IOException e) { return "(unreadable: " + e + ")"; }
    }

    private static void assertBitIdentical(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": value count");
        int differ = 0, first = -1;
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                if (first < 0) first = i;
                differ++;
            }
        }
        if (differ > 0) {
            fail(what + ": " + differ + " of " + expected.length + " weights and Adam slots differ; first at index " + first + ": "
                    + expected[first] + " vs " + actual[first]);
        }
    }

    private static float[] read(Path file) throws IOException {
        try (DataInputStream s = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            float[] v = new float[s.readInt()];
            for (int i = 0; i < v.length; i++) v[i] = Float.intBitsToFloat(s.readInt());
            return v;
        }
    }
}
