package dev.kiln.cuda;

import dev.kiln.cuda.ffi.CudnnLibrary;
import dev.kiln.cuda.ffi.FakeCudaLibraries;
import dev.kiln.cuda.ffi.SharedLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The host stand-in for libcudnn.so.9 (fake_cudnn.c, built with gcc) loaded for a test: {@link CudnnConvolutions} over
 * it, its call counter, and host memory that serves as "device" memory (the fake reads device pointers as host
 * addresses). Skips the test, saying why, where gcc is missing.
 */
final class FakeCudnn implements AutoCloseable {
    final Arena arena = Arena.ofShared();
    final CudnnConvolutions dnn;
    private final MemorySegment calls;
    private final Random random;

    FakeCudnn(long seed) throws Exception {
        Path so = FakeCudaLibraries.build("fake_cudnn.c").orElse(null);
        assumeTrue(so != null, "gcc not found at " + FakeCudaLibraries.GCC + ": the fake libcudnn cannot be built");
        SymbolLookup lookup = SymbolLookup.libraryLookup(so, arena);
        calls = lookup.find("fake_cudnn_calls").orElseThrow().reinterpret(4);
        dnn = new CudnnConvolutions(CudnnLibrary.bind(new SharedLibrary("libcudnn.so.9", so.toString(), lookup)), false);
        random = new Random(seed);
    }

    /** Calls the library has counted so far. */
    int calls() { return calls.get(JAVA_INT, 0); }

    /** {@code host} copied to "device" memory. */
    MemorySegment device(float[] host) { return arena.allocateFrom(JAVA_FLOAT, host); }

    float[] gaussian(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    @Override public void close() { arena.close(); }
}
