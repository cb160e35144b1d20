package dev.kiln.cuda.ffi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The prototype tables bind and call through FFM (checked on libc, which every machine has). */
class CFunctionsTest {

    @Test
    void aTableOfPrototypesBindsAndCallsRealFunctions() {
        try (Arena arena = Arena.ofConfined()) {
            SharedLibrary libc = SharedLibrary.find(List.of("libc.so.6"), arena).library().orElseThrow();
            CFunctions.Bound c = CFunctions.parse("libc.so.6", """
                    size_t strlen(const char*);   // a pointer in, a size_t out
                    int abs(int);
                    """).bind(libc);
            assertEquals(5L, c.invoke("strlen", arena.allocateFrom("kiln!")));
            assertEquals(42, c.status("abs", -42));
            assertTrue(c.missing().isEmpty(), c.missing().toString());
        }
    }

    @Test
    void aMissingSymbolFailsWhenCalledNamingTheLibraryAndTheFunction() {
        try (Arena arena = Arena.ofConfined()) {
            SharedLibrary libc = SharedLibrary.find(List.of("libc.so.6"), arena).library().orElseThrow();
            NativeDriver notADriver = NativeDriver.bind(libc);
            IllegalStateException e = assertThrows(IllegalStateException.class, notADriver::init);
            assertTrue(e.getMessage().contains("libc.so.6") && e.getMessage().contains("has no symbol cuInit"), e.getMessage());
        }
    }

    @Test
    void everyTableParsesWithKnownTypesAndTheCallsTheBackendNeeds() {
        for (String f : List.of("cuLaunchKernel", "cuModuleLoadData", "cuMemAlloc_v2", "cuMemcpyHtoDAsync_v2", "cuStreamBeginCapture_v2",
                "cuGraphInstantiateWithFlags", "cuGraphLaunch", "cuEventElapsedTime")) {
            assertTrue(CudaApis.DRIVER.prototypes().containsKey(f), f);
        }
        assertEquals(11, CudaApis.DRIVER.prototypes().get("cuLaunchKernel").parameterTypes().size());
        assertEquals(18, CudaApis.CUBLAS.prototypes().get("cublasSgemmStridedBatched").parameterTypes().size());
        assertEquals(16, CudaApis.CUBLASLT.prototypes().get("cublasLtMatmul").parameterTypes().size());
        assertTrue(CudaApis.NVRTC.prototypes().keySet().containsAll(List.of("nvrtcCreateProgram", "nvrtcCompileProgram", "nvrtcGetPTX",
                "nvrtcGetProgramLog", "nvrtcVersion", "nvrtcGetErrorString")));
    }

    @Test
    void anUnknownCTypeFailsNamingTheFunction() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CFunctions.parse("libx", "CUresult cuFoo(CUmystery);"));
        assertTrue(e.getMessage().contains("CUmystery") && e.getMessage().contains("cuFoo"), e.getMessage());
    }

    @Test
    void pipWheelLibraryFoldersAreFoundUnderSitePackages(@TempDir Path site) throws Exception {
        Files.createDirectories(site.resolve("nvidia/cublas/lib"));
        Files.createDirectories(site.resolve("nvidia/cudnn/lib"));
        Files.createDirectories(site.resolve("nvidia/nccl/include"));
        List<Path> found = SharedLibrary.wheelLibraryFolders(List.of(site, site.resolve("absent")));
        assertEquals(2, found.size(), found.toString());
        assertTrue(found.contains(site.resolve("nvidia/cublas/lib")) && found.contains(site.resolve("nvidia/cudnn/lib")), found.toString());
    }
}
