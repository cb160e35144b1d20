package dev.kiln.cuda;

import dev.kiln.cuda.ffi.Cublas;
import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.ffi.NativeDriver;
import dev.kiln.cuda.ffi.Nvrtc;
import dev.kiln.cuda.ffi.Sgemm;

import java.lang.foreign.Arena;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a compiled program runs on: a driver with a current context, a GEMM, a CUDA C compiler and a
 * caching allocator. On a GPU: libcuda, cuBLAS and NVRTC ({@link #openNative()}), and cuDNN 9 for convolutions where it
 * loads (optional); in kiln-cuda's
 * tests: the emulated driver, a reference GEMM and nvcc. The hand-written kernel modules
 * ({@link KernelSource}) are loaded once per device, from the PTX the build put in the jar or,
 * without it, compiled from their CUDA C.
 *
 * <pre>{@code
 * CudaDevice gpu = CudaDevice.openNative();
 * Executable step = new CudaBackend(gpu).compile(program);
 * }</pre>
 */
public final class CudaDevice {
    private final CudaDriver driver;
    private final Sgemm gemm;
    private final PtxCompiler compiler;
    private final DeviceAllocator allocator;
    private final int maxBlocks;
    private final int ordinal;
    /** The primary context {@link #openNative(int)} retained (0 for a device made from a driver whose context its maker handles). */
    private final long context;
    private final Optional<CudnnConvolutions> cudnn;
    private final Map<KernelSourceKey, Long> modules = new EnumMap<>(KernelSourceKey.class);

    /** The kernel modules by source, so the map needs no equality on records with lists. */
    enum KernelSourceKey {
        ELEMENTWISE(KernelSource.ELEMENTWISE), BROADCAST(KernelSource.BROADCAST), REDUCE(KernelSource.REDUCE), SOFTMAX(KernelSource.SOFTMAX),
        DROPOUT(KernelSource.DROPOUT), OPTIMIZERS(KernelSource.OPTIMIZERS), BATCH_NORM(KernelSource.BATCH_NORM),
        CONV(KernelSource.CONV), POOL(KernelSource.POOL);
        final KernelSource source;
        KernelSourceKey(KernelSource s) { source = s; }
    }

    public CudaDevice(CudaDriver driver, Sgemm gemm, PtxCompiler compiler) { this(driver, gemm, compiler, Optional.empty(), 0, 0); }

    /** Over a context the caller retained ({@code driver.contextCreate}): {@link #makeCurrent} and {@link #close} handle it as {@link #openNative(int)}'s. */
    CudaDevice(CudaDriver driver, Sgemm gemm, PtxCompiler compiler, long context) { this(driver, gemm, compiler, Optional.empty(), 0, context); }

    /** With cuDNN for the convolutions ({@link ConvLowering}); without it they run on Kiln's own kernels. */
    CudaDevice(CudaDriver driver, Sgemm gemm, PtxCompiler compiler, Optional<CudnnConvolutions> cudnn) { this(driver, gemm, compiler, cudnn, 0, 0); }

    private CudaDevice(CudaDriver driver, Sgemm gemm, PtxCompiler compiler, Optional<CudnnConvolutions> cudnn, int ordinal, long context) {
        this.ordinal = ordinal;
        this.context = context;
        this.cudnn = cudnn;
        this.driver = driver;
        this.gemm = gemm;
        this.compiler = compiler;
        this.allocator = new DeviceAllocator(driver);
        this.maxBlocks = BLOCKS_PER_MULTIPROCESSOR * Math.max(1, driver.deviceAttribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, ordinal));
    }

    static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    /** Grid-stride kernels get this many blocks of 256 threads per SM at most: enough to keep every SM busy. */
    static final int BLOCKS_PER_MULTIPROCESSOR = 8;

    /** The most blocks a grid-stride kernel is launched with on this device. */
    public int maxBlocks() { return maxBlocks; }

    /**
     * Device 0 through libcuda, cuBLAS and NVRTC, or an {@link UnsupportedOperationException} naming
     * what is missing (the CPU backend is the fallback).
     */
    public static CudaDevice openNative() { return openNative(0); }

    /**
     * Device {@code ordinal} (0 .. count-1, as CUDA_VISIBLE_DEVICES numbers them), its primary context made current on the
     * calling thread: every later call for this device must come from that thread (data-parallel ranks have a thread each).
     */
    public static CudaDevice openNative(int ordinal) {
        Arena arena = Arena.global();
        NativeDriver cuda = NativeDriver.load(arena).orElseThrow(() -> missing("libcuda.so.1 not found (no NVIDIA driver)"));
        cuda.init();
        int count = cuda.deviceCount();
        if (count == 0) throw missing("the driver sees no CUDA device");
        if (ordinal < 0 || ordinal >= count) {
            throw new IllegalArgumentException("CUDA device " + ordinal + " asked for, but the driver sees " + count + " (devices 0.." + (count - 1)
                    + "); check nvidia-smi and CUDA_VISIBLE_DEVICES");
        }
        long context = cuda.contextCreate(ordinal);   // and made current on this thread: no other device is
        CURRENT.get()[0] = null;
        Cublas blas = Cublas.load(arena).orElseThrow(() -> missing("cuBLAS not found"));
        Nvrtc nvrtc = Nvrtc.load(arena).orElseThrow(() -> missing("NVRTC not found"));
        int major = cuda.deviceAttribute(75, ordinal), minor = cuda.deviceAttribute(76, ordinal);
        return new CudaDevice(cuda, blas.create(), PtxCompiler.nvrtc(nvrtc, major, minor), CudnnConvolutions.open(arena), ordinal, context);
    }

    private static UnsupportedOperationException missing(String what) {
        return new UnsupportedOperationException("the CUDA backend cannot run here: " + what + "; use the CPU backend (-Dkiln.backend=cpu)");
    }

    public CudaDriver driver() { return driver; }
    /** The device's ordinal (0 unless opened with {@link #openNative(int)}). */
    public int ordinal() { return ordinal; }
    /** cuDNN's convolutions, where libcudnn.so.9 loaded (and -Dkiln.cudnn is not off). */
    Optional<CudnnConvolutions> cudnn() { return cudnn; }
    public Sgemm gemm() { return gemm; }
    public PtxCompiler compiler() { return compiler; }
    public DeviceAllocator allocator() { return allocator; }

    /**
     * The device whose context Kiln last made current on each thread (null: none known), as CUDA keeps one context per
     * thread: a data-parallel rank enters its device before every step, and a rank's own thread only ever holds its own,
     * so the driver call is made only when the thread's device changes. Kept by device, not by handle: two drivers (the
     * emulated devices) may hand out equal handles.
     */
    private static final ThreadLocal<CudaDevice[]> CURRENT = ThreadLocal.withInitial(() -> new CudaDevice[1]);

    /** Makes this device's context current on the calling thread (data-parallel rank 0 runs on whichever thread calls fit). */
    public void makeCurrent() {
        if (context == 0) return;
        CudaDevice[] current = CURRENT.get();
        if (current[0] != this) {
            driver.contextSetCurrent(context);
            current[0] = this;
        }
    }

    /**
     * Frees the allocator's cached blocks and releases the context {@link #openNative(int)} retained, on a thread where
     * it is current; the driver destroys the primary context, and every allocation in it, at its last release. The
     * device is unusable afterwards. A device made from a driver directly keeps its context (its maker owns it).
     */
    public void close() {
        // each part released even when one before it failed (a sticky error fails the synchronize); the first error thrown
        RuntimeException failed = attempt(null, allocator::close);
        if (context != 0) {
            failed = attempt(failed, driver::contextSynchronize);
            if (gemm instanceof AutoCloseable handle) failed = attempt(failed, () -> closeGemm(handle));
            failed = attempt(failed, () -> cudnn.ifPresent(CudnnConvolutions::close));
            failed = attempt(failed, () -> driver.contextDestroy(context));
            if (CURRENT.get()[0] == this) CURRENT.get()[0] = null;
        }
        if (failed != null) throw failed;
    }

    private static RuntimeException attempt(RuntimeException failed, Runnable part) {
        try {
            part.run();
            return failed;
        } catch (RuntimeException e) {
            if (failed == null) return e;
            failed.addSuppressed(e);
            return failed;
        }
    }

    private static void closeGemm(AutoCloseable handle) {
        try {
            handle.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the device's GEMM handle failed: " + e.getMessage(), e);
        }
    }

    /** The function {@code name} of a hand-written kernel module, loading the module on first use. */
    synchronized long function(KernelSource source, String name) {
        KernelSourceKey key = null;
        for (KernelSourceKey k : KernelSourceKey.values()) if (k.source == source) key = k;
        if (key == null) throw new IllegalArgumentException("unknown kernel source " + source.resource());
        Long module = modules.get(key);
        if (module == null) {
            String ptx = source.prebuiltPtx().orElseGet(() -> compiler.ptx(source.resource(), source.text()));
            module = driver.moduleLoadData(ptx);
            modules.put(key, module);
        }
        return driver.moduleGetFunction(module, name);
    }
}
