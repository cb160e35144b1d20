package dev.kiln.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CUDA C sources must compile offline with nvcc, so a syntax error cannot wait for a GPU run. */
class ElementwiseKernelsPtxTest {

    /** nvcc on PATH, else in the usual toolkit folders. */
    static Optional<Path> findNvcc() {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) for (String dir : path.split(java.io.File.pathSeparator)) if (!dir.isEmpty()) candidates.add(Path.of(dir, "nvcc"));
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) candidates.add(Path.of(cudaHome, "bin", "nvcc"));
        candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
        for (Path p : candidates) if (Files.isExecutable(p)) return Optional.of(p);
        return Optional.empty();
    }

    @Test
    void elementwiseSourceCompilesToPtxWithEveryEntryPoint(@TempDir Path dir) throws IOException, InterruptedException {
        Optional<Path> nvcc = findNvcc();
        assumeTrue(nvcc.isPresent(), "nvcc not found on PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin: "
                + "install the CUDA toolkit to check the CUDA C sources");
        KernelSource source = KernelSource.ELEMENTWISE;
        Path cu = dir.resolve(source.resource());
        Path ptx = dir.resolve("elementwise.ptx");
        Files.writeString(cu, source.text(), StandardCharsets.UTF_8);

        Process nvccRun = new ProcessBuilder(nvcc.get().toString(), "-ptx", cu.toString(), "-o", ptx.toString())
                .redirectErrorStream(true).start();
        String log = new String(nvccRun.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(nvccRun.waitFor(120, TimeUnit.SECONDS), "nvcc did not finish in 120 s");
        assertEquals(0, nvccRun.exitValue(), "nvcc -ptx failed:\n" + log);

        String text = Files.readString(ptx);
        for (String entry : source.entryPoints()) {
            // extern "C" keeps the name unmangled; a kernel is declared as ".visible .entry name(".
            assertTrue(text.contains(".entry " + entry + "("), "PTX lacks the entry point " + entry);
        }
    }
}
