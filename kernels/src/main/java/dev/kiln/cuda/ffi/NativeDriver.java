package dev.kiln.cuda.ffi;

import dev.kiln.cuda.CudaException;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@link CudaDriver} over libcuda.so.1, through the prototypes in {@link CudaApis#DRIVER}. Every
 * call goes through {@link #check(int, String)}, which turns a non-zero CUresult into a
 * {@link CudaException} carrying the driver's own name and text for the error.
 *
 * <pre>{@code
 * NativeDriver cuda = NativeDriver.load(Arena.global()).orElseThrow();
 * cuda.init();
 * int gpus = cuda.deviceCount();
 * }</pre>
 */
public final class NativeDriver implements CudaDriver {
    private static final int CUDA_SUCCESS = 0;
    private static final AddressLayout C_STRING = ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, JAVA_BYTE));

    private final CFunctions.Bound cu;
    /** The device each retained primary context belongs to, so that releasing it names that device. */
    private final Map<Long, Integer> contextDevice = new ConcurrentHashMap<>();

    private NativeDriver(CFunctions.Bound cu) { this.cu = cu; }

    /** The driver, or empty when libcuda.so.1 cannot be loaded (no NVIDIA driver installed). */
    public static Optional<NativeDriver> load(Arena arena) {
        return SharedLibrary.find(CudaApis.DRIVER_SONAMES, arena).library().map(NativeDriver::bind);
    }

    /** Binds the table in an already opened libcuda; a missing symbol fails when it is first called, naming it. */
    public static NativeDriver bind(SharedLibrary libcuda) { return new NativeDriver(CudaApis.DRIVER.bind(libcuda)); }

    public SharedLibrary library() { return cu.library(); }

    /** Throws {@link CudaException} with the driver's error name and text unless {@code status} is CUDA_SUCCESS. */
    public void check(int status, String call) {
        if (status == CUDA_SUCCESS) return;
        throw new CudaException(call, status, errorText("cuGetErrorName", status, "unknown CUresult"),
                errorText("cuGetErrorString", status, "the driver has no text for this code"));
    }

    // Not routed through check(): it is how check() builds its message; an unknown code is
    // answered with CUDA_ERROR_INVALID_VALUE, which the fallback text covers.
    private String errorText(String query, int status, String fallback) {
        if (!cu.has(query)) return fallback;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_STRING);
            if (cu.status(query, status, out) != CUDA_SUCCESS) return fallback;
            MemorySegment text = out.get(C_STRING, 0);
            return text.equals(MemorySegment.NULL) ? fallback : text.getString(0);
        }
    }

    private void call(String name, Object... args) { check(cu.status(name, args), name); }

    private int intOut(String name, Object... rest) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            call(name, prepend(out, rest));
            return out.get(JAVA_INT, 0);
        }
    }

    private long longOut(String name, Object... rest) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            call(name, prepend(out, rest));
            return out.get(JAVA_LONG, 0);
        }
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    private static MemorySegment handle(long h) { return MemorySegment.ofAddress(h); }

    @Override public void init() { call("cuInit", 0); }
    @Override public int driverVersion() { return intOut("cuDriverGetVersion"); }
    @Override public int deviceCount() { return intOut("cuDeviceGetCount"); }
    private int device(int ordinal) { return intOut("cuDeviceGet", ordinal); }

    @Override public String deviceName(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(256);
            call("cuDeviceGetName", name, 256, device(ordinal));
            return name.getString(0);
        }
    }

    @Override public long deviceTotalMemory(int ordinal) { return longOut("cuDeviceTotalMem_v2", device(ordinal)); }
    @Override public int deviceAttribute(int attribute, int ordinal) { return intOut("cuDeviceGetAttribute", attribute, device(ordinal)); }

    /** Retains the device's primary context (the runtime API's, shared with cuBLAS/cuDNN) and makes it current. */
    @Override public long contextCreate(int ordinal) {
        int device = device(ordinal);
        long ctx = longOut("cuDevicePrimaryCtxRetain", device);
        contextDevice.put(ctx, device);
        call("cuCtxSetCurrent", handle(ctx));
        return ctx;
    }

    /** Releases the primary context on its own device (the driver destroys it, and frees its memory, at the last release). */
    @Override public void contextDestroy(long context) {
        Integer device = contextDevice.remove(context);
        if (device == null) throw new IllegalArgumentException("context 0x" + Long.toHexString(context) + " was not retained by this driver (contextCreate) or is already released");
        call("cuDevicePrimaryCtxRelease_v2", device);
    }

    @Override public void contextSetCurrent(long context) { call("cuCtxSetCurrent", handle(context)); }

    @Override public void contextSynchronize() { call("cuCtxSynchronize"); }

    @Override public long moduleLoadData(String ptx) {
        try (Arena arena = Arena.ofConfined()) {
            return longOut("cuModuleLoadData", arena.allocateFrom(ptx));
        }
    }

    @Override public void moduleUnload(long module) { call("cuModuleUnload", handle(module)); }

    @Override public long moduleGetFunction(long module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            return longOut("cuModuleGetFunction", handle(module), arena.allocateFrom(name));
        }
    }

    @Override public void launchKernel(long function, Dim3 grid, Dim3 block, int sharedBytes, long stream, KernelArgs args) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(ADDRESS, Math.max(1, args.size()));
            for (int i = 0; i < args.size(); i++) {
                MemorySegment slot = arena.allocate(8, 8);
                switch (args.kind(i)) {
                    case I32, F32 -> slot.set(JAVA_INT, 0, (int) args.bits(i));
                    case I64, F64, POINTER -> slot.set(JAVA_LONG, 0, args.bits(i));
                }
                params.setAtIndex(ADDRESS, i, slot);
            }
            call("cuLaunchKernel", handle(function), grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(),
                    sharedBytes, handle(stream), params, MemorySegment.NULL);
        }
    }

    @Override public long memAlloc(long bytes) { return longOut("cuMemAlloc_v2", bytes); }
    @Override public void memFree(long devicePointer) { call("cuMemFree_v2", devicePointer); }
    @Override public MemorySegment memHostAlloc(long bytes) { return MemorySegment.ofAddress(longOut("cuMemHostAlloc", bytes, 0)).reinterpret(bytes); }
    @Override public void memFreeHost(MemorySegment pinned) { call("cuMemFreeHost", pinned); }

    // The driver reads host memory by address, so heap segments go through a native copy.
    @Override public void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            call("cuMemcpyHtoD_v2", dst, nativeCopy(src, bytes, arena), bytes);
        }
    }

    @Override public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        if (dst.isNative()) { call("cuMemcpyDtoH_v2", dst, src, bytes); return; }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tmp = arena.allocate(bytes, 16);
            call("cuMemcpyDtoH_v2", tmp, src, bytes);
            dst.asSlice(0, bytes).copyFrom(tmp);
        }
    }

    @Override public void memcpyDtoD(long dst, long src, long bytes) { call("cuMemcpyDtoD_v2", dst, src, bytes); }

    /** {@code src} must be native (pinned for true asynchrony) and stay alive until the stream passes the copy. */
    @Override public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) {
        requireNative(src, "cuMemcpyHtoDAsync");
        call("cuMemcpyHtoDAsync_v2", dst, src, bytes, handle(stream));
    }

    @Override public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) {
        requireNative(dst, "cuMemcpyDtoHAsync");
        call("cuMemcpyDtoHAsync_v2", dst, src, bytes, handle(stream));
    }

    @Override public void memsetD32(long dst, int value, long count) { call("cuMemsetD32_v2", dst, value, count); }
    @Override public void memcpyDtoDAsync(long dst, long src, long bytes, long stream) { call("cuMemcpyDtoDAsync_v2", dst, src, bytes, handle(stream)); }
    @Override public void memsetD32Async(long dst, int value, long count, long stream) { call("cuMemsetD32Async", dst, value, count, handle(stream)); }

    @Override public long streamCreate() { return longOut("cuStreamCreate", 0); }
    @Override public void streamSynchronize(long stream) { call("cuStreamSynchronize", handle(stream)); }
    @Override public void streamWaitEvent(long stream, long event) { call("cuStreamWaitEvent", handle(stream), handle(event), 0); }
    @Override public void streamDestroy(long stream) { call("cuStreamDestroy_v2", handle(stream)); }
    @Override public long eventCreate() { return longOut("cuEventCreate", 0); }
    @Override public void eventRecord(long event, long stream) { call("cuEventRecord", handle(event), handle(stream)); }
    @Override public void eventSynchronize(long event) { call("cuEventSynchronize", handle(event)); }

    @Override public float eventElapsedTime(long start, long end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_FLOAT);
            call("cuEventElapsedTime", out, handle(start), handle(end));
            return out.get(JAVA_FLOAT, 0);
        }
    }

    @Override public void eventDestroy(long event) { call("cuEventDestroy_v2", handle(event)); }

    // ---- CUDA graphs: capture a stream's work once, replay it per step

    /** CU_STREAM_CAPTURE_MODE_THREAD_LOCAL: other threads' CUDA calls do not invalidate the capture. */
    public static final int CAPTURE_MODE_THREAD_LOCAL = 1;

    @Override public void streamBeginCapture(long stream) { call("cuStreamBeginCapture_v2", handle(stream), CAPTURE_MODE_THREAD_LOCAL); }
    @Override public long streamEndCapture(long stream) { return longOut("cuStreamEndCapture", handle(stream)); }
    @Override public long graphInstantiate(long graph) { return longOut("cuGraphInstantiateWithFlags", handle(graph), 0L); }
    @Override public void graphLaunch(long graphExec, long stream) { call("cuGraphLaunch", handle(graphExec), handle(stream)); }
    @Override public void graphExecDestroy(long graphExec) { call("cuGraphExecDestroy", handle(graphExec)); }
    @Override public void graphDestroy(long graph) { call("cuGraphDestroy", handle(graph)); }

    private static MemorySegment nativeCopy(MemorySegment src, long bytes, Arena arena) {
        if (src.isNative()) return src;
        MemorySegment tmp = arena.allocate(bytes, 16);
        tmp.copyFrom(src.asSlice(0, bytes));
        return tmp;
    }

    private static void requireNative(MemorySegment s, String call) {
        if (!s.isNative()) throw new IllegalArgumentException(call + " needs native host memory (Arena-allocated, ideally pinned), got a heap segment");
    }
}
