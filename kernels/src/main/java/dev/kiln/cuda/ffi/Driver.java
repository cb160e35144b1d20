package dev.kiln.cuda.ffi;

import dev.kiln.cuda.CudaException;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Bindings to the CUDA driver API (libcuda.so.1, shipped with the NVIDIA driver, not the
 * toolkit). Every call goes through {@link #check(int, String)}, which turns a non-zero CUresult
 * into a {@link CudaException} carrying the driver's own name and text for the error.
 *
 * <pre>{@code
 * Driver driver = Driver.load(Arena.global()).orElseThrow();
 * driver.init();
 * int gpus = driver.deviceCount();
 * }</pre>
 */
public final class Driver {
    /** The driver's soname; it has been .so.1 since CUDA 1.0. */
    public static final List<String> SONAMES = List.of("libcuda.so.1");

    private static final int CUDA_SUCCESS = 0;
    private static final AddressLayout C_STRING = ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, JAVA_BYTE));

    private final SharedLibrary library;
    private final MethodHandle cuInit;
    private final MethodHandle cuDriverGetVersion;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuGetErrorName;
    private final MethodHandle cuGetErrorString;

    private Driver(SharedLibrary library) {
        this.library = library;
        SymbolLookup lib = library.lookup();
        Linker linker = Linker.nativeLinker();
        // CUresult cuInit(unsigned int Flags)
        cuInit = bind(linker, lib, "cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        // CUresult cuDriverGetVersion(int *driverVersion)
        cuDriverGetVersion = bind(linker, lib, "cuDriverGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // CUresult cuDeviceGetCount(int *count)
        cuDeviceGetCount = bind(linker, lib, "cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // CUresult cuGetErrorName(CUresult error, const char **pStr)
        cuGetErrorName = bind(linker, lib, "cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        // CUresult cuGetErrorString(CUresult error, const char **pStr)
        cuGetErrorString = bind(linker, lib, "cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    /** The driver, or empty when libcuda.so.1 cannot be loaded (no NVIDIA driver installed). */
    public static Optional<Driver> load(Arena arena) {
        return SharedLibrary.find(SONAMES, arena).library().map(Driver::bind);
    }

    /** Binds the driver's functions in an already opened libcuda; fails naming a missing symbol. */
    public static Driver bind(SharedLibrary libcuda) {
        return new Driver(libcuda);
    }

    public SharedLibrary library() { return library; }

    /** cuInit(0): must precede every other call except version and error queries. */
    public void init() {
        check(invoke(cuInit, 0), "cuInit");
    }

    /** The CUDA version the driver supports, encoded as 1000·major + 10·minor (13000 = 13.0). */
    public int driverVersion() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check(invoke(cuDriverGetVersion, out), "cuDriverGetVersion");
            return out.get(JAVA_INT, 0);
        }
    }

    /** How many CUDA devices the driver sees (after {@link #init()}). */
    public int deviceCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check(invoke(cuDeviceGetCount, out), "cuDeviceGetCount");
            return out.get(JAVA_INT, 0);
        }
    }

    /** Throws {@link CudaException} with the driver's error name and text unless {@code status} is CUDA_SUCCESS. */
    public void check(int status, String call) {
        if (status == CUDA_SUCCESS) return;
        throw new CudaException(call, status, errorText(cuGetErrorName, status, "unknown CUresult"),
                errorText(cuGetErrorString, status, "the driver has no text for this code"));
    }

    // Not routed through check(): it is how check() builds its message, and an unknown code is
    // answered with CUDA_ERROR_INVALID_VALUE, which the fallback text covers.
    private static String errorText(MethodHandle query, int status, String fallback) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_STRING);
            if (invoke(query, status, out) != CUDA_SUCCESS) return fallback;
            MemorySegment text = out.get(C_STRING, 0);
            return text.equals(MemorySegment.NULL) ? fallback : text.getString(0);
        }
    }

    private static MethodHandle bind(Linker linker, SymbolLookup lib, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = lib.find(name).orElseThrow(() -> new IllegalStateException(
                "libcuda.so.1 has no symbol " + name + ": the NVIDIA driver is too old for Kiln; update it"));
        return linker.downcallHandle(symbol, descriptor);
    }

    private static int invoke(MethodHandle h, int arg) {
        try {
            return (int) h.invokeExact(arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int invoke(MethodHandle h, MemorySegment arg) {
        try {
            return (int) h.invokeExact(arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int invoke(MethodHandle h, int a, MemorySegment b) {
        try {
            return (int) h.invokeExact(a, b);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // A downcall declares Throwable but only throws unchecked errors (a crash kills the JVM instead).
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("native call failed", t);
    }
}
