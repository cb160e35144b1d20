package dev.kiln.cuda.ffi;

import dev.kiln.cuda.CudaException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The NVRTC and cuBLAS wrappers against stand-in libraries compiled from fake_cuda_libs.c: every
 * argument crosses FFM as the real call's would, and failures carry the library's own status
 * names and texts. (The real libraries are not installed on the machines that build Kiln.)
 */
class FakeLibrariesTest {
    private static Arena arena;
    private static SharedLibrary fake;

    @BeforeAll static void build() throws Exception {
        Path so = FakeCudaLibraries.build().orElse(null);
        assumeTrue(so != null, "gcc not found at " + FakeCudaLibraries.GCC + ": the stand-in libraries cannot be built");
        arena = Arena.ofShared();
        fake = new SharedLibrary("libfakecuda.so", so.toString(), SymbolLookup.libraryLookup(so, arena));
    }

    @AfterAll static void unload() { if (arena != null) arena.close(); }

    @Test
    void nvrtcCompilesPassingSourceNameAndOptions() {
        Nvrtc nvrtc = Nvrtc.bind(fake);
        assertEquals("13.0", nvrtc.version());
        String ptx = nvrtc.compile("extern \"C\" __global__ void k() {}", "k.cu", List.of("--gpu-architecture=compute_80", "-default-device"));
        assertEquals("// fake PTX of k.cu, 2 options: --gpu-architecture=compute_80 -default-device", ptx);
    }

    @Test
    void anNvrtcCompileErrorCarriesTheStatusNameAndTheLog() {
        CudaException e = assertThrows(CudaException.class, () -> Nvrtc.bind(fake).compile("syntax error", "bad.cu", List.of()));
        assertEquals("nvrtcCompileProgram", e.call());
        assertEquals(6, e.status());
        assertTrue(e.getMessage().contains("NVRTC_ERROR_COMPILATION") && e.getMessage().contains("bad.cu(1): error: expected a \";\""), e.getMessage());
    }

    @Test
    void sgemmPassesAllFourteenArgumentsAndFailuresNameTheCublasStatus() {
        Cublas blas = Cublas.bind(fake);
        try (Arena a = Arena.ofConfined(); Cublas.Handle h = blas.create()) {
            // column-major A (2x3), B (3x2): C = 2·A·B + 1·C
            MemorySegment ma = a.allocateFrom(JAVA_FLOAT, 1, 4, 2, 5, 3, 6), mb = a.allocateFrom(JAVA_FLOAT, 1, 0, 2, 0, 1, 0),
                    mc = a.allocateFrom(JAVA_FLOAT, 10, 20, 30, 40);
            h.sgemm(Cublas.OP_N, Cublas.OP_N, 2, 2, 3, 2f, ma.address(), 2, mb.address(), 3, 1f, mc.address(), 2);
            // A·B = [[1+6, 2], [4+12, 5]] column-major: (7, 16), (2, 5)
            assertArrayEquals(new float[] {24, 52, 34, 50}, mc.toArray(JAVA_FLOAT));
            CudaException e = assertThrows(CudaException.class,
                    () -> h.sgemm(Cublas.OP_N, Cublas.OP_N, 2, 2, 3, 1f, ma.address(), 1, mb.address(), 3, 0f, mc.address(), 2));
            assertEquals("cublasSgemm_v2 failed: CUBLAS_STATUS_INVALID_VALUE (7): an invalid numeric value was used as an argument", e.getMessage());
        }
    }
}
