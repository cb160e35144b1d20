package dev.kiln.cuda;

import dev.kiln.cuda.ffi.FakeCudaLibraries;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The doctor's library lines: where each library was found and its version, read through the binding tables (stand-in library). */
class CudaBackendLibraryCheckTest {

    private static String probe(String name, Path so) {
        for (CudaBackend.Requirement r : CudaBackend.LIBRARIES) {
            if (!r.name().equals(name)) continue;
            // The requirement as shipped, with the stand-in's absolute path as its only "soname" (dlopen takes paths).
            var fake = new CudaBackend.Requirement(r.name(), List.of(so.toString()), r.api(), r.version(), r.fix());
            try (Arena arena = Arena.ofConfined()) { return CudaBackend.probeLibrary(fake, arena); }
        }
        throw new AssertionError("no requirement " + name);
    }

    @Test
    void eachLibraryLineNamesWhereItWasFoundAndItsVersion() throws Exception {
        Path so = FakeCudaLibraries.build().orElse(null);
        assumeTrue(so != null, "gcc not found: the stand-in library cannot be built");
        assertEquals("cuBLAS: " + so + " loaded from loader search path, version 13.0.2", probe("cuBLAS", so));
        assertEquals("cuBLASLt: " + so + " loaded from loader search path, version 13.0.2", probe("cuBLASLt", so));
        assertEquals("cuDNN: " + so + " loaded from loader search path, version 9.10.1", probe("cuDNN", so));
        assertEquals("NVRTC: " + so + " loaded from loader search path, version 13.0", probe("NVRTC", so));
        assertEquals("NCCL: " + so + " loaded from loader search path, version 2.27.7", probe("NCCL", so));
    }

    @Test
    void aMissingLibraryNamesEverySonameTriedAndTheFix() {
        var r = new CudaBackend.Requirement("cuBLAS", List.of("libkiln-absent.so.13", "libkiln-absent.so.12"), null, null, "install it");
        try (Arena arena = Arena.ofConfined()) {
            String line = CudaBackend.probeLibrary(r, arena);
            assertTrue(line.startsWith("cuBLAS: none of libkiln-absent.so.13, libkiln-absent.so.12 found") && line.endsWith("; install it"), line);
        }
    }
}
