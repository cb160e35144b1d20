package dev.kiln.cuda.ffi;

import java.lang.foreign.MemorySegment;

/**
 * The CUDA driver calls the backend makes, as one interface with two implementations: the
 * FFM binding to libcuda ({@link NativeDriver}) and, in the test sources, an emulated device that
 * keeps device memory on the host and interprets the PTX nvcc produced (tinygrad's mockgpu idea).
 * Handles (contexts, modules, functions, streams, events) and device pointers are plain longs, as
 * they are in the C API. Every failing call throws {@link dev.kiln.cuda.CudaException} naming the call.
 *
 * <pre>{@code
 * CudaDriver cuda = ...;
 * cuda.init();
 * long ctx = cuda.contextCreate(0);
 * long module = cuda.moduleLoadData(ptx);
 * long add = cuda.moduleGetFunction(module, "kiln_add_f32");
 * long x = cuda.memAlloc(4L * n);
 * cuda.launchKernel(add, Dim3.of(8), Dim3.of(256), 0, 0, KernelArgs.of().pointer(x).pointer(x).pointer(x).i64(n));
 * }</pre>
 */
public interface CudaDriver {

    /** A launch geometry (grid in blocks, block in threads). */
    record Dim3(int x, int y, int z) {
        public Dim3 {
            if (x < 1 || y < 1 || z < 1) throw new IllegalArgumentException("launch dimensions must be >= 1, got " + x + "x" + y + "x" + z);
        }
        public static Dim3 of(int x) { return new Dim3(x, 1, 1); }
        public long count() { return (long) x * y * z; }
    }

    void init();

    /** 1000·major + 10·minor of the CUDA version the driver supports (13000 = 13.0). */
    int driverVersion();

    int deviceCount();

    String deviceName(int ordinal);

    /** Total device memory in bytes. */
    long deviceTotalMemory(int ordinal);

    /** A CUdevice_attribute value (e.g. 75 / 76 for compute capability major / minor). */
    int deviceAttribute(int attribute, int ordinal);

    /** Creates a context on the device and makes it current on this thread. */
    long contextCreate(int ordinal);

    /** Ends this process's use of {@code context} (a primary context is released on the device it belongs to). */
    void contextDestroy(long context);

    /** Makes {@code context} current on the calling thread (a context is current per thread). */
    void contextSetCurrent(long context);

    void contextSynchronize();

    /** Loads a module from PTX text (JIT-compiled by the driver). */
    long moduleLoadData(String ptx);

    void moduleUnload(long module);

    long moduleGetFunction(long module, String name);

    void launchKernel(long function, Dim3 grid, Dim3 block, int sharedBytes, long stream, KernelArgs args);

    long memAlloc(long bytes);

    void memFree(long devicePointer);

    void memcpyHtoD(long dst, MemorySegment src, long bytes);

    void memcpyDtoH(MemorySegment dst, long src, long bytes);

    void memcpyDtoD(long dst, long src, long bytes);

    void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream);

    void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream);

    /** Sets {@code count} 32-bit words to {@code value}. */
    void memsetD32(long dst, int value, long count);

    long streamCreate();

    void streamSynchronize(long stream);

    void streamDestroy(long stream);

    long eventCreate();

    void eventRecord(long event, long stream);

    void eventSynchronize(long event);

    /** Milliseconds between two recorded events. */
    float eventElapsedTime(long start, long end);

    void eventDestroy(long event);

    /** Page-locked host memory of {@code bytes} (cuMemHostAlloc): the source of truly asynchronous host-to-device copies. */
    default MemorySegment memHostAlloc(long bytes) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not allocate pinned host memory; feed inputs with setInput");
    }

    /** Frees memory from {@link #memHostAlloc} (cuMemFreeHost). */
    default void memFreeHost(MemorySegment pinned) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not allocate pinned host memory");
    }

    /** Work queued on {@code stream} from now on waits for {@code event}'s recorded point (cuStreamWaitEvent); by default the host waits. */
    default void streamWaitEvent(long stream, long event) { eventSynchronize(event); }

    // ---- added for compiled programs: stream-ordered copies and CUDA graphs (defaults: synchronous copies, no graphs)

    /** A device-to-device copy ordered on {@code stream} (capturable in a CUDA graph). */
    default void memcpyDtoDAsync(long dst, long src, long bytes, long stream) { memcpyDtoD(dst, src, bytes); }

    /** {@link #memsetD32} ordered on {@code stream} (capturable in a CUDA graph). */
    default void memsetD32Async(long dst, int value, long count, long stream) { memsetD32(dst, value, count); }

    /** Starts recording {@code stream}'s work into a graph instead of running it. */
    default void streamBeginCapture(long stream) { throw noGraphs(); }

    /** Ends the capture; returns the graph. */
    default long streamEndCapture(long stream) { throw noGraphs(); }

    /** An executable graph of a captured one. */
    default long graphInstantiate(long graph) { throw noGraphs(); }

    /** Runs an executable graph on {@code stream}: every captured call, in order. */
    default void graphLaunch(long graphExec, long stream) { throw noGraphs(); }

    default void graphExecDestroy(long graphExec) { throw noGraphs(); }

    default void graphDestroy(long graph) { throw noGraphs(); }

    private UnsupportedOperationException noGraphs() {
        return new UnsupportedOperationException(getClass().getSimpleName() + " does not capture CUDA graphs; run the program eagerly");
    }
}
