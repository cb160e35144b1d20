package dev.kiln.io;

import dev.kiln.graph.Variable;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Input;
import dev.kiln.nn.MaxPool2D;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.nn.applications.PretrainedWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded mutations of a valid Keras HDF5 file (tiny_keras.h5, 15 KB) through the whole load path:
 * each attempt must end in a load (all weights finite and of the model's shapes) or an IOException
 * naming the file; anything else (a raw jhdf exception, an Error, a hang) fails the test.
 */
class KerasH5FuzzTest {
    static final long SEED = 20240611L;
    static final int ATTEMPTS = 3000;
    /** The main run's bound; its loop stops at 10 s (then the FileChannel run, at most 5 s more) so a slow machine still finishes cleanly. */
    static final Duration LIMIT = Duration.ofSeconds(13);

    static Model tiny() {
        return Sequential.of(Input.shape(8, 8, 3), Conv2D.of(4, 3).relu().named("conv"), MaxPool2D.of(2).named("pool"),
                Flatten.of().named("flatten"), Dense.of(2).named("dense"));
    }

    /** Bit flips, random bytes, all-ones words (addresses and lengths), zeroed runs, truncation, copied spans. */
    static byte[] mutate(byte[] valid, SplittableRandom r) {
        byte[] b = valid.clone();
        int kind = r.nextInt(6), edits = 1 + r.nextInt(4);
        switch (kind) {
            case 0 -> { for (int i = 0; i < edits; i++) { int at = r.nextInt(b.length); b[at] ^= (byte) (1 << r.nextInt(8)); } }
            case 1 -> { for (int i = 0; i < edits; i++) b[r.nextInt(b.length)] = (byte) r.nextInt(256); }
            case 2 -> { for (int i = 0; i < edits; i++) { int at = r.nextInt(b.length - 8); Arrays.fill(b, at, at + (r.nextBoolean() ? 4 : 8), (byte) 0xFF); } }
            case 3 -> { int at = r.nextInt(b.length - 64); Arrays.fill(b, at, at + 1 + r.nextInt(64), (byte) 0); }
            case 4 -> { return Arrays.copyOf(b, r.nextInt(b.length)); }
            case 5 -> { int from = r.nextInt(b.length - 256), to = r.nextInt(b.length - 256); System.arraycopy(valid, from, b, to, 1 + r.nextInt(256)); }
            default -> throw new IllegalStateException();
        }
        return b;
    }

    @Test
    void mutatedFilesLoadOrFailCleanlyNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] valid;
        try (var in = getClass().getResourceAsStream("/h5/tiny_keras.h5")) { valid = in.readAllBytes(); }
        Path file = dir.resolve("fuzzed.h5");
        int[] outcome = new int[2];  // loaded, refused
        assertTimeoutPreemptively(LIMIT, () -> {
            SplittableRandom r = new SplittableRandom(SEED);
            long deadline = System.nanoTime() + 10_000_000_000L;
            for (int i = 0; i < ATTEMPTS && System.nanoTime() < deadline; i++) {
                byte[] bytes = mutate(valid, r);
                Files.write(file, bytes);
                Model m = tiny();
                try {
                    PretrainedWeights.load(m, file);
                    for (Variable v : m.weights()) for (float x : v.value()) assertTrue(Float.isFinite(x), "attempt " + i + " loaded non-finite " + v.name());
                    outcome[0]++;
                } catch (IOException e) {
                    assertTrue(e.getMessage() != null && e.getMessage().contains(file.toString()), "attempt " + i + ": message does not name the file: " + e.getMessage());
                    outcome[1]++;
                } catch (Throwable t) {
                    throw new AssertionError("attempt " + i + " (seed " + SEED + ") escaped as " + t, t);
                }
            }
        });
        int total = outcome[0] + outcome[1];
        // the same through KerasH5.open(Path), the FileChannel path large files take
        SplittableRandom r2 = new SplittableRandom(SEED + 1);
        int[] direct = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            long deadline = System.nanoTime() + 5_000_000_000L;
            for (int i = 0; i < 300 && System.nanoTime() < deadline; i++) {
                Files.write(file, mutate(valid, r2));
                try (KerasH5 f = KerasH5.open(file)) {
                    for (String layer : f.layerNames()) for (String w : f.weightNames(layer)) { f.shape(layer, w); f.floats(layer, w); }
                    direct[0]++;
                } catch (IOException e) {
                    assertTrue(e.getMessage() != null && e.getMessage().contains(file.toString()), "direct attempt " + i + ": message does not name the file: " + e.getMessage());
                    direct[1]++;
                } catch (Throwable t) {
                    throw new AssertionError("direct attempt " + i + " (seed " + (SEED + 1) + ") escaped as " + t, t);
                }
            }
        });
        System.out.println("KerasH5 fuzz through a FileChannel: " + (direct[0] + direct[1]) + " attempts, " + direct[0] + " read, " + direct[1] + " refused");
        assertTrue(direct[0] + direct[1] >= 100, "only " + (direct[0] + direct[1]) + " FileChannel attempts ran in the time bound");
        System.out.println("KerasH5 fuzz: " + total + " attempts, " + outcome[0] + " loaded, " + outcome[1] + " refused");
        assertTrue(total >= 500, "only " + total + " attempts ran in the time bound");
        assertTrue(outcome[1] > total / 10, "mutations should break most files: " + outcome[1] + " of " + total + " refused");
    }
}
