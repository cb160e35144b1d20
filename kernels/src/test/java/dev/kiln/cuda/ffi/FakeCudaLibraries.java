package dev.kiln.cuda.ffi;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** fake_cuda_libs.c built once per JVM into a shared library with gcc: stand-ins for libnvrtc and libcublas. */
public final class FakeCudaLibraries {
    public static final Path GCC = Path.of("/usr/bin/gcc");
    private static Path built;

    private FakeCudaLibraries() {}

    /** The built library's path, or empty without gcc. Fails with gcc's log when the C does not compile. */
    public static synchronized Optional<Path> build() throws Exception {
        if (!Files.isExecutable(GCC)) return Optional.empty();
        if (built != null) return Optional.of(built);
        Path dir = Files.createTempDirectory("kiln-fake-cuda");
        Path c = dir.resolve("fake_cuda_libs.c"), so = dir.resolve("libfakecuda.so");
        try (InputStream in = FakeCudaLibraries.class.getResourceAsStream("fake_cuda_libs.c")) { Files.write(c, in.readAllBytes()); }
        Process p = new ProcessBuilder(GCC.toString(), "-shared", "-fPIC", "-O1", c.toString(), "-o", so.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("gcc failed on fake_cuda_libs.c:\n" + log);
        built = so;
        return Optional.of(so);
    }
}
