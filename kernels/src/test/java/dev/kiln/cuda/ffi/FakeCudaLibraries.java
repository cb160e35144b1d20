package dev.kiln.cuda.ffi;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** fake_cuda_libs.c (stand-ins for libnvrtc and libcublas, built once per JVM) and fake_cudnn.c built into shared libraries with gcc. */
public final class FakeCudaLibraries {
    public static final Path GCC = Path.of("/usr/bin/gcc");
    private static Path built;

    private FakeCudaLibraries() {}

    /** The built library's path, or empty without gcc. Fails with gcc's log when the C does not compile. */
    public static synchronized Optional<Path> build() throws Exception {
        if (built == null) built = build("fake_cuda_libs.c").orElse(null);
        return Optional.ofNullable(built);
    }

    /** The C source {@code resource} beside this class built into a shared library, or empty without gcc. */
    public static Optional<Path> build(String resource) throws Exception {
        if (!Files.isExecutable(GCC)) return Optional.empty();
        Path dir = Files.createTempDirectory("kiln-fake-cuda");
        Path c = dir.resolve(resource), so = dir.resolve("lib" + resource.replace(".c", "") + ".so");
        try (InputStream in = FakeCudaLibraries.class.getResourceAsStream(resource)) { Files.write(c, in.readAllBytes()); }
        Process p = new ProcessBuilder(GCC.toString(), "-shared", "-fPIC", "-O1", c.toString(), "-o", so.toString(), "-lm").redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("gcc failed on " + resource + ":\n" + log);
        return Optional.of(so);
    }
}
