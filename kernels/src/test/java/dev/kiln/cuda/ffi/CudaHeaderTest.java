package dev.kiln.cuda.ffi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The driver table against this machine's cuda.h: each prototype becomes a function-pointer
 * declaration initialised with the real function, so gcc rejects any parameter or return type that
 * differs from the header; the constants Kiln passes are static assertions (cuda.h, library_types.h).
 * cuBLAS, cuBLASLt, NVRTC, cuDNN and NCCL headers are not installed here (nor shipped by Maven Central's
 * org.bytedeco:cuda jars); CudaLibraryDeclarationsTest checks those tables against the declarations JavaCPP generated
 * from them.
 */
class CudaHeaderTest {
    static final Path CUDA_INCLUDE = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"), "include");
    static final Path GCC = Path.of("/usr/bin/gcc");

    /** Constants the bindings and the emulated driver use, by their cuda.h names. */
    static final Map<String, Integer> CONSTANTS = Map.ofEntries(
            // library_types.h: the properties CudaBackend asks cublasGetProperty for, and fp32's data type
            Map.entry("MAJOR_VERSION", 0), Map.entry("MINOR_VERSION", 1), Map.entry("PATCH_LEVEL", 2), Map.entry("CUDA_R_32F", Cublas.CUDA_R_32F),
            Map.entry("CUDA_R_16F", Cublas.CUDA_R_16F), Map.entry("CUDA_R_16BF", Cublas.CUDA_R_16BF),   // cublasGemmEx's operand types
            Map.entry("CU_STREAM_CAPTURE_MODE_THREAD_LOCAL", NativeDriver.CAPTURE_MODE_THREAD_LOCAL),
            Map.entry("CUDA_SUCCESS", 0),
            Map.entry("CUDA_ERROR_INVALID_VALUE", 1),
            Map.entry("CUDA_ERROR_OUT_OF_MEMORY", 2),
            Map.entry("CUDA_ERROR_NOT_INITIALIZED", 3),
            Map.entry("CUDA_ERROR_INVALID_PTX", 218),
            Map.entry("CUDA_ERROR_ILLEGAL_ADDRESS", 700),
            Map.entry("CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK", 1),
            Map.entry("CU_DEVICE_ATTRIBUTE_WARP_SIZE", 10),
            Map.entry("CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT", 16),
            Map.entry("CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR", 75),
            Map.entry("CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR", 76));

    static String checkSource(CFunctions api, Map<String, Integer> constants) {
        StringBuilder c = new StringBuilder("#include <cuda.h>\n#include <library_types.h>\n");
        int i = 0;
        for (CFunctions.Prototype p : api.prototypes().values()) {
            c.append(p.returnType()).append(" (*const kiln_check_").append(i++).append(")(")
                    .append(p.parameterTypes().isEmpty() ? "void" : String.join(", ", p.parameterTypes()))
                    .append(") = ").append(p.name()).append(";\n");
        }
        constants.forEach((name, value) -> c.append("_Static_assert(").append(name).append(" == ").append(value)
                .append(", \"").append(name).append(" is not ").append(value).append(" in cuda.h\");\n"));
        return c.toString();
    }

    static String compile(Path dir, String source) throws IOException, InterruptedException {
        Path file = dir.resolve("check.c");
        Files.writeString(file, source);
        Process gcc = new ProcessBuilder(GCC.toString(), "-std=c11", "-Werror=incompatible-pointer-types", "-Werror",
                "-I" + CUDA_INCLUDE, "-c", file.toString(), "-o", dir.resolve("check.o").toString()).redirectErrorStream(true).start();
        String log = new String(gcc.getInputStream().readAllBytes());
        assertTrue(gcc.waitFor(60, TimeUnit.SECONDS), "gcc did not finish in 60 s");
        return gcc.exitValue() == 0 ? "" : log;
    }

    static void assumeHeaders() {
        assumeTrue(Files.isExecutable(GCC), "gcc not found at " + GCC + ": the header check needs a C compiler");
        assumeTrue(Files.exists(CUDA_INCLUDE.resolve("cuda.h")), "no cuda.h in " + CUDA_INCLUDE + ": install the CUDA toolkit headers");
    }

    @Test
    void everyDriverPrototypeAndConstantMatchesThisMachinesCudaH(@TempDir Path dir) throws Exception {
        assumeHeaders();
        assertEquals("", compile(dir, checkSource(CudaApis.DRIVER, CONSTANTS)), "the driver table differs from cuda.h");
        assertTrue(CudaApis.DRIVER.prototypes().size() >= 40, "the table binds the driver calls the backend makes");
    }

    @Test
    void aPrototypeThatDiffersFromTheHeaderIsCaught(@TempDir Path dir) throws Exception {
        assumeHeaders();
        CFunctions wrong = CFunctions.parse("libcuda.so.1", "CUresult cuMemAlloc_v2(CUdeviceptr*, int);");
        String log = compile(dir, checkSource(wrong, Map.of("CUDA_ERROR_INVALID_PTX", 219)));
        assertNotEquals("", log);
        assertTrue(log.contains("cuMemAlloc_v2") || log.contains("incompatible"), log);
        assertTrue(log.contains("CUDA_ERROR_INVALID_PTX is not 219"), log);
    }
}
