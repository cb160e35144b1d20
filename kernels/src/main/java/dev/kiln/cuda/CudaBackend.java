package dev.kiln.cuda;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Pass;
import dev.kiln.compile.Precision;
import dev.kiln.compile.Program;
import dev.kiln.cuda.ffi.CFunctions;
import dev.kiln.cuda.ffi.CudaApis;
import dev.kiln.cuda.ffi.NativeDriver;
import dev.kiln.cuda.ffi.SharedLibrary;
import dev.kiln.graph.Node;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The CUDA backend. It probes the machine — driver, devices, cuBLAS, cuDNN, NVRTC — so
 * {@code ./kiln doctor} and {@link Backend#auto()} can say what a GPU run would need, and
 * {@link #compile} lowers a program to device launches ({@link CudaExecutable}): the dense models'
 * and convnets' ops (convolutions, pooling, softmax and batch norm through cuDNN where it loads, else Kiln's own
 * kernels), tested on the emulated device. {@link Backend#auto()} does not pick it yet: it has not run on a GPU; construct it to use it.
 * The cuDNN paths (CudnnConvolutions, CudnnLayers) are unverified on hardware: checked against a fake libcudnn only.
 *
 * <p>Each executable's second {@code run()} captures its launches as one CUDA graph and every later run
 * replays it (the learning rate and step counter are device inputs, so a schedule needs no re-capture);
 * {@code -Dkiln.cuda.graph=false} or {@link #graphs(boolean)} turns that off. The backend keeps one device
 * copy of each variable for all its executables ({@link DeviceVariables}). {@code Model.fit} feeds full batches through
 * pinned, prefetched host buffers ({@link #pinnedFeed(boolean)}, {@code -Dkiln.cuda.pinnedFeed=false} to turn it off).
 * In BF16/FP16 the products read 16-bit copies of their rounded operands (cublasGemmEx; conv.cu's 16-bit twins where
 * cuDNN is not loaded): {@link HalfOperands}, {@link #halfGemms(boolean)}.
 */
public final class CudaBackend implements Backend {
    static final String NOT_IMPLEMENTED =
            "the CUDA backend is not verified on a GPU yet (CUDA backend issue); use the CPU backend";

    static final String EAGER_NOT_IMPLEMENTED =
            "eager evaluation is not implemented on the CUDA backend (compiled programs are); use the CPU backend for eager mode";

    /** A library the backend needs, the sonames it can use (newest first), its API table, how to read its version, and how to get it. */
    record Requirement(String name, List<String> sonames, CFunctions api, Function<CFunctions.Bound, String> version, String fix) {}

    static final List<Requirement> LIBRARIES = List.of(
            new Requirement("cuBLAS", CudaApis.CUBLAS_SONAMES, CudaApis.CUBLAS, CudaBackend::cublasVersion,
                    "install cuBLAS (apt-get install libcublas-13-0, pip install nvidia-cublas-cu12, or the CUDA toolkit) or add its folder to LD_LIBRARY_PATH"),
            new Requirement("cuBLASLt", CudaApis.CUBLASLT_SONAMES, CudaApis.CUBLASLT, lt -> packed((long) lt.invoke("cublasLtGetVersion"), 10000),
                    "cuBLASLt ships with cuBLAS: install cuBLAS (apt-get install libcublas-13-0 or pip install nvidia-cublas-cu12)"),
            new Requirement("cuDNN", CudaApis.CUDNN_SONAMES, CudaApis.CUDNN, dnn -> packed((long) dnn.invoke("cudnnGetVersion"), 10000),
                    "install cuDNN 9 (apt-get install libcudnn9-cuda-13, pip install nvidia-cudnn-cu12, or NVIDIA's cuDNN archive) or add its folder to LD_LIBRARY_PATH"),
            new Requirement("NVRTC", CudaApis.NVRTC_SONAMES, CudaApis.NVRTC, CudaBackend::nvrtcVersion,
                    "install NVRTC (apt-get install cuda-nvrtc-13-0, pip install nvidia-cuda-nvrtc-cu12, or the CUDA toolkit) or add its folder to LD_LIBRARY_PATH"),
            new Requirement("NCCL", CudaApis.NCCL_SONAMES, CudaApis.NCCL, CudaBackend::ncclVersion,
                    "only data-parallel training on several GPUs needs it: install NCCL (apt-get install libnccl2, or pip install nvidia-nccl-cu12) or add its folder to LD_LIBRARY_PATH"));

    private static String ncclVersion(CFunctions.Bound nccl) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int status = nccl.status("ncclGetVersion", out);
            return status != 0 ? "version unknown (ncclGetVersion returned " + status + ")" : dev.kiln.cuda.ffi.Nccl.versionText(out.get(JAVA_INT, 0));
        }
    }

    private static String cublasVersion(CFunctions.Bound cublas) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            StringBuilder v = new StringBuilder();
            for (int property = 0; property < 3; property++) {   // MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
                int status = cublas.status("cublasGetProperty", property, out);
                if (status != 0) return "version unknown (cublasGetProperty returned " + status + ")";
                v.append(property == 0 ? "" : ".").append(out.get(JAVA_INT, 0));
            }
            return v.toString();
        }
    }

    private static String nvrtcVersion(CFunctions.Bound nvrtc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(JAVA_INT), minor = arena.allocate(JAVA_INT);
            int status = nvrtc.status("nvrtcVersion", major, minor);
            return status != 0 ? "version unknown (nvrtcVersion returned " + status + ")" : major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        }
    }

    /** 90100 -> "9.1.0" for libraries that pack major·10000 + minor·100 + patch. */
    static String packed(long v, int majorScale) {
        return v / majorScale + "." + v % majorScale / 100 + "." + v % 100;
    }

    private CudaDevice device;
    private DeviceVariables variables;
    private boolean graphs = !"false".equals(System.getProperty("kiln.cuda.graph"));
    private boolean pinnedFeed = !"false".equals(System.getProperty("kiln.cuda.pinnedFeed"));
    private boolean halfGemms = !"false".equals(System.getProperty("kiln.cuda.halfGemm"));

    /** The backend ServiceLoader finds: it opens the GPU on first {@link #compile}. */
    public CudaBackend() {}

    /** A backend over a given device (the emulated one in kiln-cuda's tests). */
    public CudaBackend(CudaDevice device) { this.device = Objects.requireNonNull(device, "device"); }

    @Override public String name() { return "cuda"; }

    /** Above the CPU backend, so a usable GPU wins. */
    @Override public int priority() { return 100; }

    /** TF32 tensor cores for f32 products unless a model asks for {@link Precision#F32} (PyTorch's allow_tf32 default for convolutions). */
    @Override public Precision defaultPrecision() { return Precision.TF32; }

    /** Keeps BatchNormGrad whole: one cuDNN call or kiln_batchnorm_backward_f32 in place of a dozen composed launches. */
    @Override public List<Pass> passes() { return Compiler.fusedPasses(); }

    @Override public Availability availability() {
        List<String> checks = new ArrayList<>();
        // Global arena: once cuInit has run in this process, unloading libcuda again is not safe.
        Optional<String> driverProblem = probeDriver(Arena.global(), checks);
        try (Arena arena = Arena.ofConfined()) {
            for (Requirement r : LIBRARIES) checks.add(probeLibrary(r, arena));
        }
        checks.add("kernels: " + NOT_IMPLEMENTED);
        // No libcuda, or a driver that sees no device (CUDA_VISIBLE_DEVICES=""): absent, passed over quietly. A driver
        // that is installed but broken (does not load, cuInit fails, too old), or a working one with a device that
        // Kiln cannot use yet, is "present but unusable": Backend.auto() says it once as a WARNING with the fixes.
        return availability(driverProblem, checks);
    }

    /** What the probe found, as {@link Backend#auto()} reports it (the rule in the comment above). */
    static Availability availability(Optional<String> driverProblem, List<String> checks) {
        if (driverProblem.isPresent()) {
            String why = driverProblem.get() + "; Kiln runs on the CPU backend";
            boolean absent = driverProblem.get().equals(NO_DRIVER) || driverProblem.get().equals(NO_DEVICE);
            return absent ? Availability.unavailable(why, checks) : Availability.presentButUnusable(why, checks);
        }
        return Availability.presentButUnusable(NOT_IMPLEMENTED + "; Kiln runs on the CPU backend", checks);
    }

    /** The two driver problems that mean "no GPU here" rather than "a GPU Kiln could not use". */
    static final String NO_DRIVER = "libcuda.so.1 not found (no NVIDIA driver)";
    static final String NO_DEVICE = "no CUDA device";

    /** Adds the driver's check lines; returns what stops a GPU run, if the driver is the reason. */
    private static Optional<String> probeDriver(Arena arena, List<String> checks) {
        SharedLibrary.Search search = SharedLibrary.find(CudaApis.DRIVER_SONAMES, arena);
        if (search.library().isEmpty()) {
            if (!search.presentButUnloadable().isEmpty()) {
                checks.add("libcuda.so.1 found at " + search.presentButUnloadable() + " but it does not load: "
                        + "check it with ldd and reinstall the NVIDIA driver");
                return Optional.of("libcuda.so.1 does not load");
            }
            checks.add("libcuda.so.1 not found: no NVIDIA driver on this machine; Kiln runs on the CPU backend "
                    + "(install the NVIDIA driver to use a GPU)");
            return Optional.of(NO_DRIVER);
        }
        SharedLibrary libcuda = search.library().get();
        checks.add("libcuda.so.1: loaded from " + libcuda.location());
        try {
            NativeDriver driver = NativeDriver.bind(libcuda);
            int version = driver.driverVersion();
            checks.add("cuDriverGetVersion: the driver supports CUDA " + version / 1000 + "." + version % 1000 / 10);
            driver.init();
            checks.add("cuInit(0): CUDA_SUCCESS");
            int devices = driver.deviceCount();
            if (devices == 0) {
                checks.add("cuDeviceGetCount: 0 devices: the driver sees no GPU (check nvidia-smi and CUDA_VISIBLE_DEVICES)");
                return Optional.of(NO_DEVICE);
            }
            checks.add("cuDeviceGetCount: " + devices + (devices == 1 ? " device" : " devices"));
            return Optional.empty();
        } catch (CudaException e) {
            checks.add(e.getMessage() + " (check nvidia-smi; a driver/kernel-module mismatch needs a reboot, "
                    + "a container needs the GPU passed through)");
            return Optional.of(e.call() + " failed");
        } catch (IllegalStateException missingSymbol) {
            checks.add(missingSymbol.getMessage());
            return Optional.of("the NVIDIA driver is too old");
        }
    }

    static String probeLibrary(Requirement r, Arena arena) {
        SharedLibrary.Search search = SharedLibrary.find(r.sonames(), arena);
        if (search.library().isPresent()) {
            SharedLibrary lib = search.library().get();
            String where = r.name() + ": " + lib.soname() + " loaded from " + lib.location();
            try {
                return where + ", version " + r.version().apply(r.api().bind(lib));
            } catch (IllegalStateException tooOld) {
                return where + ", but " + tooOld.getMessage() + "; " + r.fix();
            }
        }
        String missing = r.sonames().size() == 1 ? r.sonames().getFirst() + " not found" : "none of " + String.join(", ", r.sonames()) + " found";
        if (!search.presentButUnloadable().isEmpty()) {
            List<String> files = new ArrayList<>();
            for (Path p : search.presentButUnloadable()) files.add(p.toString());
            return r.name() + ": " + String.join(", ", files) + " exists but does not load (check it with ldd: "
                    + "a dependency may be missing); " + r.fix();
        }
        return r.name() + ": " + missing + " on the loader path, in the CUDA toolkit folders or in pip nvidia-* wheels; " + r.fix();
    }

    /**
     * Lowers {@code program} to this backend's device: one arena, variables uploaded, launches bound
     * ({@link CudaLowering}). Without a device given at construction, device 0 is opened through
     * libcuda, cuBLAS and NVRTC, or an {@link UnsupportedOperationException} says what is missing.
     */
    @Override public Executable compile(Program program) {
        CudaDevice d = device();
        return new CudaExecutable(Objects.requireNonNull(program, "program"), d, variables(d), graphs, pinnedFeed, halfGemms);
    }

    /** With {@code on} (the default; {@code -Dkiln.cuda.graph=false} turns it off), an executable's second run captures it as a CUDA graph. */
    public CudaBackend graphs(boolean on) { graphs = on; return this; }

    /**
     * With {@code on} (the default; {@code -Dkiln.cuda.pinnedFeed=false} turns it off), {@code Model.fit} feeds the full
     * batches of its executables through pinned, prefetched buffers ({@link PinnedFeed}) instead of one synchronous
     * copy per array per step. Either way the step sees the same bits.
     */
    public CudaBackend pinnedFeed(boolean on) { pinnedFeed = on; return this; }

    /**
     * With {@code on} (the default; {@code -Dkiln.cuda.halfGemm=false} turns it off), a product whose operands a bf16/fp16
     * program rounds reads 16-bit copies of them through cublasGemmEx (tensor cores, f32 accumulation: the same products;
     * the emulated device gives the f32 path's bits, real cuBLAS may sum in another order).
     */
    public CudaBackend halfGemms(boolean on) { halfGemms = on; return this; }

    /** How many times {@code step} captured its launches as a CUDA graph (0 or 1). */
    public static int captures(Executable step) { return cuda(step).captures(); }

    /**
     * Makes {@code step} (an executable this backend compiled) run as one CUDA graph: its launches are
     * captured once, and every later {@link Executable#run()} replays them with one driver call.
     */
    public static void captureGraph(Executable step) { cuda(step).captureGraph(); }

    /** The device calls one run of {@code step} makes, in order ("kiln_gen_3<<<64, 256>>>", "sgemm(N, N, 512, 256, 11)", ...). */
    public static List<String> kernelList(Executable step) { return cuda(step).kernelList(); }

    private static CudaExecutable cuda(Executable e) {
        if (e instanceof CudaExecutable c) return c;
        throw new IllegalArgumentException("not an executable of the CUDA backend: " + (e == null ? "null" : e.getClass().getName()));
    }

    private synchronized DeviceVariables variables(CudaDevice d) {
        if (variables == null) variables = new DeviceVariables(d);
        return variables;
    }

    private synchronized CudaDevice device() {
        if (device == null) device = CudaDevice.openNative();
        return device;
    }

    @Override public void evaluate(Node node, float[][] inputs, float[] out) {
        throw new UnsupportedOperationException(EAGER_NOT_IMPLEMENTED);
    }
}
