package dev.kiln.cuda.emu;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** This machine's nvcc, if any, and CUDA C compiled to PTX with it (once per source per JVM). */
public final class Nvcc {
    /** Printed by every test that skips because nvcc is absent. */
    public static final String ABSENT = "nvcc not found on PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin: "
            + "install the CUDA toolkit to compile and emulate the CUDA C kernels";

    private static final Map<String, String> PTX = new ConcurrentHashMap<>();

    private Nvcc() {}

    public static Optional<Path> find() {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) for (String dir : path.split(File.pathSeparator)) if (!dir.isEmpty()) candidates.add(Path.of(dir, "nvcc"));
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) candidates.add(Path.of(cudaHome, "bin", "nvcc"));
        candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
        for (Path p : candidates) if (Files.isExecutable(p)) return Optional.of(p);
        return Optional.empty();
    }

    /** The PTX nvcc writes for {@code source} (named {@code name}.cu in errors); fails with nvcc's log. */
    public static String ptx(String name, String source) {
        return PTX.computeIfAbsent(source, s -> compile(name, s));
    }

    private static String compile(String name, String source) {
        Path nvcc = find().orElseThrow(() -> new IllegalStateException(ABSENT));
        try {
            Path dir = Files.createTempDirectory("kiln-nvcc");
            Path cu = dir.resolve(name.endsWith(".cu") ? name : name + ".cu");
            Path ptx = dir.resolve("out.ptx");
            Files.writeString(cu, source, StandardCharsets.UTF_8);
            Process p = new ProcessBuilder(nvcc.toString(), "-ptx", "-arch=sm_75", cu.toString(), "-o", ptx.toString())
                    .redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) { p.destroyForcibly(); throw new IllegalStateException("nvcc did not finish in 120 s on " + name); }
            if (p.exitValue() != 0) throw new IllegalStateException("nvcc -ptx failed on " + name + ":\n" + log);
            String text = Files.readString(ptx);
            Files.delete(ptx);
            Files.delete(cu);
            Files.delete(dir);
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException("running nvcc on " + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while nvcc compiled " + name, e);
        }
    }
}
