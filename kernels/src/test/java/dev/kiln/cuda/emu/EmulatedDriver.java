package dev.kiln.cuda.emu;

import dev.kiln.cuda.CudaException;
import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.ffi.KernelArgs;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A CUDA driver with no GPU behind it (tinygrad's test/mockgpu idea): device memory lives on the
 * host, modules are PTX parsed by {@link PtxModule}, and launches run the PTX instruction by
 * instruction ({@link PtxLaunch}). Streams and events exist but every call completes before it
 * returns. Errors are {@link CudaException}s with the driver's error names, so code above the
 * driver sees what a GPU would report: CUDA_ERROR_INVALID_PTX for PTX the emulator does not
 * cover (the message names the instruction and kernel), CUDA_ERROR_ILLEGAL_ADDRESS for a fault.
 */
public final class EmulatedDriver implements CudaDriver, AutoCloseable {
    private final DeviceMemory memory = new DeviceMemory();
    private final List<PtxModule> modules = new ArrayList<>();
    private final List<PtxKernel> functions = new ArrayList<>();
    private final Map<Long, Long> events = new HashMap<>();
    private long nextHandle = 1;
    private boolean initialised;
    private long launches;
    private long memoryLimit = Long.MAX_VALUE;

    /** Makes cuMemAlloc fail with CUDA_ERROR_OUT_OF_MEMORY beyond {@code bytes} live (for allocator tests). */
    public EmulatedDriver withMemoryLimit(long bytes) { memoryLimit = bytes; return this; }

    /** How many kernels this driver has launched. */
    public long launches() { return launches; }

    /** Bytes allocated and not freed. */
    public long liveBytes() { return memory.liveBytes(); }

    /** The parsed kernel behind a function handle (for tests of the emulator itself). */
    PtxKernel kernel(long function) { return function(function); }

    @Override public void init() { initialised = true; }
    @Override public int driverVersion() { return 13000; }
    @Override public int deviceCount() { requireInit("cuDeviceGetCount"); return 1; }
    @Override public String deviceName(int ordinal) { device(ordinal); return "Kiln emulated device (PTX interpreter)"; }
    @Override public long deviceTotalMemory(int ordinal) { device(ordinal); return 1L << 32; }

    @Override public int deviceAttribute(int attribute, int ordinal) {
        device(ordinal);
        return switch (attribute) {
            case 1 -> 1024;   // max threads per block
            case 10 -> 32;    // warp size
            case 16 -> 1;     // multiprocessors
            case 75 -> 7;     // compute capability major (the PTX targets sm_75)
            case 76 -> 5;
            default -> throw error("cuDeviceGetAttribute", 1, "CUDA_ERROR_INVALID_VALUE", "attribute " + attribute + " is not emulated");
        };
    }

    // One emulated context per driver, usable from any thread; which handle is current on which thread, and which were
    // released, is recorded for tests of code that must make its context current (data-parallel ranks).
    private final ThreadLocal<Long> current = new ThreadLocal<>();
    private final java.util.Set<Long> released = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override public long contextCreate(int ordinal) {
        device(ordinal);
        long context = nextHandle++;
        current.set(context);
        return context;
    }
    @Override public void contextDestroy(long context) { released.add(context); }
    @Override public void contextSetCurrent(long context) { current.set(context); }

    /** The context last made current on the calling thread (contextCreate, contextSetCurrent), or 0. */
    public long currentContext() { Long c = current.get(); return c == null ? 0 : c; }

    /** Whether {@code context} was released (contextDestroy). */
    public boolean released(long context) { return released.contains(context); }
    @Override public void contextSynchronize() {}

    @Override public long moduleLoadData(String ptx) {
        requireInit("cuModuleLoadData");
        try {
            modules.add(PtxModule.parse(ptx));
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            throw error("cuModuleLoadData", 218, "CUDA_ERROR_INVALID_PTX", e.getMessage());
        }
        return modules.size();
    }

    @Override public void moduleUnload(long module) { module(module, "cuModuleUnload"); modules.set((int) module - 1, null); }

    @Override public long moduleGetFunction(long module, String name) {
        PtxKernel k = module(module, "cuModuleGetFunction").kernels.get(name);
        if (k == null) throw error("cuModuleGetFunction", 500, "CUDA_ERROR_NOT_FOUND", "the module has no kernel named " + name);
        functions.add(k);
        return functions.size();
    }

    @Override public void launchKernel(long function, Dim3 grid, Dim3 block, int sharedBytes, long stream, KernelArgs args) {
        if (dryRun) return;
        PtxKernel k = function(function);
        KernelArgs bound = capturing != 0 && stream == capturing ? copy(args) : args;   // a graph keeps the values of capture time
        enqueue(stream, k.name, () -> {
            launches++;
            try {
                PtxLaunch.run(k, memory, grid, block, sharedBytes, bound);
            } catch (IllegalArgumentException e) {
                throw error("cuLaunchKernel", 1, "CUDA_ERROR_INVALID_VALUE", e.getMessage());
            } catch (IllegalStateException e) {
                throw error("cuLaunchKernel", 700, "CUDA_ERROR_ILLEGAL_ADDRESS", e.getMessage());
            }
        });
    }

    // ---- streams in capture mode and CUDA graphs: a graph is the list of calls captured on one stream

    private long capturing;
    private List<Runnable> captured;
    private final Map<Long, List<Runnable>> graphs = new HashMap<>();
    private final Map<Long, List<Runnable>> graphExecs = new HashMap<>();
    private List<String> log;
    private boolean dryRun;

    /** With {@code on}, kernel launches and stream-ordered copies return at once, doing nothing (to measure a caller's own cost). */
    public void dryRun(boolean on) { dryRun = on; }

    /** Appends the name of every call that runs from now on (kernel names, "sgemm", "memcpyDtoD", "memsetD32") to {@code sink}; null stops. */
    public void logCalls(List<String> sink) { log = sink; }

    /** Runs {@code op} now, or records it into the graph being captured when {@code stream} is in capture mode. */
    public void enqueue(long stream, String name, Runnable op) {
        if (capturing != 0 && stream == capturing) {
            captured.add(() -> { if (log != null) log.add(name); op.run(); });
            return;
        }
        if (log != null) log.add(name);
        op.run();
    }

    @Override public void memcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        if (dryRun) return;
        enqueue(stream, "memcpyDtoD", () -> deviceSlice(dst, bytes, "cuMemcpyDtoDAsync").copyFrom(deviceSlice(src, bytes, "cuMemcpyDtoDAsync")));
    }

    @Override public void memsetD32Async(long dst, int value, long count, long stream) {
        if (dryRun) return;
        enqueue(stream, "memsetD32", () -> fill(dst, value, count));
    }

    @Override public void streamBeginCapture(long stream) {
        if (stream == 0) throw error("cuStreamBeginCapture", 900, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "the legacy stream cannot be captured");
        if (capturing != 0) throw error("cuStreamBeginCapture", 901, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", "a capture is already under way");
        capturing = stream;
        captured = new ArrayList<>();
    }

    @Override public long streamEndCapture(long stream) {
        if (stream != capturing) throw error("cuStreamEndCapture", 904, "CUDA_ERROR_STREAM_CAPTURE_UNMATCHED", "stream " + stream + " is not capturing");
        long g = nextHandle++;
        graphs.put(g, captured);
        capturing = 0;
        captured = null;
        return g;
    }

    @Override public long graphInstantiate(long graph) {
        List<Runnable> g = graphs.get(graph);
        if (g == null) throw error("cuGraphInstantiate", 400, "CUDA_ERROR_INVALID_HANDLE", "no graph " + graph);
        long e = nextHandle++;
        graphExecs.put(e, List.copyOf(g));
        return e;
    }

    @Override public void graphLaunch(long graphExec, long stream) {
        List<Runnable> g = graphExecs.get(graphExec);
        if (g == null) throw error("cuGraphLaunch", 400, "CUDA_ERROR_INVALID_HANDLE", "no executable graph " + graphExec);
        for (Runnable r : g) r.run();
    }

    @Override public void graphExecDestroy(long graphExec) { graphExecs.remove(graphExec); }
    @Override public void graphDestroy(long graph) { graphs.remove(graph); }

    /** A synchronous call while a stream is captured: CUDA refuses it (thread-local capture mode). */
    private void noSyncDuringCapture(String call) {
        if (capturing != 0) throw error(call, 906, "CUDA_ERROR_STREAM_CAPTURE_IMPLICIT", "a synchronous call during a stream capture");
    }

    private static KernelArgs copy(KernelArgs a) {
        KernelArgs c = KernelArgs.of();
        for (int i = 0; i < a.size(); i++) {
            switch (a.kind(i)) {
                case I32 -> c.i32((int) a.bits(i));
                case I64 -> c.i64(a.bits(i));
                case F32 -> c.f32(Float.intBitsToFloat((int) a.bits(i)));
                case F64 -> c.f64(Double.longBitsToDouble(a.bits(i)));
                case POINTER -> c.pointer(a.bits(i));
            }
        }
        return c;
    }

    @Override public long memAlloc(long bytes) {
        if (memory.liveBytes() + bytes > memoryLimit) {
            throw error("cuMemAlloc", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory (" + memory.liveBytes() + " of " + memoryLimit + " bytes in use)");
        }
        try {
            return memory.alloc(bytes);
        } catch (IllegalArgumentException e) {
            throw error("cuMemAlloc", 1, "CUDA_ERROR_INVALID_VALUE", e.getMessage());
        }
    }

    @Override public void memFree(long devicePointer) {
        try {
            memory.free(devicePointer);
        } catch (IllegalArgumentException e) {
            throw error("cuMemFree", 1, "CUDA_ERROR_INVALID_VALUE", e.getMessage());
        }
    }

    @Override public void memcpyHtoD(long dst, MemorySegment src, long bytes) { noSyncDuringCapture("cuMemcpyHtoD"); deviceSlice(dst, bytes, "cuMemcpyHtoD").copyFrom(src.asSlice(0, bytes)); }
    @Override public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        noSyncDuringCapture("cuMemcpyDtoH");
        deviceToHost++;
        deviceRead(dst, src, bytes);
    }

    /** The emulated libraries' own reads of device memory (on a GPU, the library's kernels'): not a copy to the host. */
    void deviceRead(MemorySegment dst, long src, long bytes) { dst.asSlice(0, bytes).copyFrom(deviceSlice(src, bytes, "cuMemcpyDtoH")); }

    private long deviceToHost;

    /** The program's device-to-host copies so far, synchronous and asynchronous: a step that reads nothing back adds none. */
    public long deviceToHostCopies() { return deviceToHost; }
    @Override public void memcpyDtoD(long dst, long src, long bytes) { noSyncDuringCapture("cuMemcpyDtoD"); deviceSlice(dst, bytes, "cuMemcpyDtoD").copyFrom(deviceSlice(src, bytes, "cuMemcpyDtoD")); }
    @Override public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) {
        if (!src.isNative()) throw error("cuMemcpyHtoDAsync", 1, "CUDA_ERROR_INVALID_VALUE", "an asynchronous copy from a Java heap array (use pinned memory)");
        memcpyHtoD(dst, src, bytes);
    }

    // ---- pinned host memory: native memory of its own arena each (this device's copies complete at once anyway)
    private final Map<Long, java.lang.foreign.Arena> pinned = new HashMap<>();
    private long pinnedAllocations;

    @Override public synchronized MemorySegment memHostAlloc(long bytes) {
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
        MemorySegment s = arena.allocate(Math.max(1, bytes), 64);
        pinned.put(s.address(), arena);
        pinnedAllocations++;
        return s.asSlice(0, bytes);
    }

    @Override public synchronized void memFreeHost(MemorySegment p) {
        java.lang.foreign.Arena arena = pinned.remove(p.address());
        if (arena == null) throw error("cuMemFreeHost", 1, "CUDA_ERROR_INVALID_VALUE", "0x" + Long.toHexString(p.address()) + " is not pinned memory of this driver");
        arena.close();
    }

    /** Calls of memHostAlloc so far, and how many of those blocks are not freed. */
    public synchronized long[] pinnedCounts() { return new long[] {pinnedAllocations, pinned.size()}; }
    @Override public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) { memcpyDtoH(dst, src, bytes); }

    @Override public void memsetD32(long dst, int value, long count) {
        noSyncDuringCapture("cuMemsetD32");
        fill(dst, value, count);
    }

    private void fill(long dst, int value, long count) {
        MemorySegment s = deviceSlice(dst, 4 * count, "cuMemsetD32");
        for (long i = 0; i < count; i++) s.setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, i, value);
    }

    @Override public long streamCreate() { return nextHandle++; }
    @Override public void streamSynchronize(long stream) {}
    @Override public void streamDestroy(long stream) {}

    @Override public long eventCreate() { long h = nextHandle++; events.put(h, -1L); return h; }
    @Override public void eventRecord(long event, long stream) { event(event, "cuEventRecord"); events.put(event, System.nanoTime()); }
    @Override public void eventSynchronize(long event) { event(event, "cuEventSynchronize"); }

    @Override public float eventElapsedTime(long start, long end) {
        long a = event(start, "cuEventElapsedTime"), b = event(end, "cuEventElapsedTime");
        if (a < 0 || b < 0) throw error("cuEventElapsedTime", 600, "CUDA_ERROR_NOT_READY", "an event was never recorded");
        return (b - a) / 1e6f;
    }

    @Override public void eventDestroy(long event) { event(event, "cuEventDestroy"); events.remove(event); }

    @Override public void close() { memory.close(); }

    private MemorySegment deviceSlice(long address, long bytes, String call) {
        try {
            return memory.slice(address, bytes);
        } catch (IllegalArgumentException e) {
            throw error(call, 1, "CUDA_ERROR_INVALID_VALUE", e.getMessage());
        }
    }

    private void requireInit(String call) {
        if (!initialised) throw error(call, 3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error");
    }

    private void device(int ordinal) {
        requireInit("cuDeviceGet");
        if (ordinal != 0) throw error("cuDeviceGet", 101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal " + ordinal);
    }

    private PtxModule module(long handle, String call) {
        PtxModule m = handle >= 1 && handle <= modules.size() ? modules.get((int) handle - 1) : null;
        if (m == null) throw error(call, 400, "CUDA_ERROR_INVALID_HANDLE", "no loaded module " + handle);
        return m;
    }

    private PtxKernel function(long handle) {
        if (handle < 1 || handle > functions.size()) throw error("cuLaunchKernel", 400, "CUDA_ERROR_INVALID_HANDLE", "no function " + handle);
        return functions.get((int) handle - 1);
    }

    private long event(long handle, String call) {
        Long t = events.get(handle);
        if (t == null) throw error(call, 400, "CUDA_ERROR_INVALID_HANDLE", "no event " + handle);
        return t;
    }

    private static CudaException error(String call, int status, String name, String text) {
        return new CudaException(call, status, name, text);
    }
}
