package dev.kiln.examples;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs bench/python/make_vgg16_h5.py at test time to write a VGG16 (no top) H5 file in Keras layout
 * with seeded random weights. Needs /usr/bin/python3 with numpy and h5py (Debian: python3-numpy
 * python3-h5py); tests that need it are skipped, saying so, where they are missing.
 */
final class KerasWeightsScript {
    static final String PYTHON = "/usr/bin/python3";

    private KerasWeightsScript() {}

    /** Skips the calling test unless /usr/bin/python3 can import numpy and h5py. */
    static void assumeH5py() {
        boolean ok;
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import numpy, h5py").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            ok = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            ok = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
        }
        Assumptions.assumeTrue(ok, PYTHON + " cannot import numpy and h5py: install Debian's python3-numpy python3-h5py to run this test");
    }

    /** The generator script, found by walking up from the working directory (module dir or repo root). */
    static Path script() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path s = d.resolve("bench/python/make_vgg16_h5.py");
            if (Files.isRegularFile(s)) return s;
        }
        throw new IllegalStateException("bench/python/make_vgg16_h5.py not found above " + Path.of("").toAbsolutePath());
    }

    /** Writes the seeded no-top VGG16 weights to {@code out} (about 59 MB) and returns it. */
    static Path writeVgg16(Path out, long seed) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script().toString(), out.toString(), "--seed", Long.toString(seed)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) { p.destroyForcibly(); throw new IllegalStateException(cmd + " did not finish in 120 s"); }
        if (p.exitValue() != 0) throw new IllegalStateException(cmd + " failed with status " + p.exitValue() + ":\n" + log);
        return out;
    }
}
