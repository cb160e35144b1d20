package dev.kiln.cuda;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.cuda.ffi.Driver;
import dev.kiln.cuda.ffi.SharedLibrary;
import dev.kiln.graph.Node;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The CUDA backend. For now it registers itself and probes the machine — driver, devices,
 * cuBLAS, cuDNN, NVRTC — so {@code ./kiln doctor} and {@link Backend#auto()} can say what a GPU
 * run would need; it is never usable until its kernels exist, and says so.
 */
public final class CudaBackend implements Backend {
    static final String NOT_IMPLEMENTED =
            "the CUDA backend's kernels are not implemented yet (CUDA backend issue); use the CPU backend";

    /** A library the backend needs, the sonames it can use (newest first) and how to get it. */
    record Requirement(String name, List<String> sonames, String fix) {}

    static final List<Requirement> LIBRARIES = List.of(
            new Requirement("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12"),
                    "install cuBLAS (apt-get install libcublas-13-0, or the CUDA toolkit) or add its folder to LD_LIBRARY_PATH"),
            new Requirement("cuDNN", List.of("libcudnn.so.9"),
                    "install cuDNN 9 (apt-get install libcudnn9-cuda-13, or NVIDIA's cuDNN archive) or add its folder to LD_LIBRARY_PATH"),
            new Requirement("NVRTC", List.of("libnvrtc.so.13", "libnvrtc.so.12"),
                    "install NVRTC (apt-get install cuda-nvrtc-13-0, or the CUDA toolkit) or add its folder to LD_LIBRARY_PATH"));

    @Override public String name() { return "cuda"; }

    /** Above the CPU backend, so a usable GPU wins. */
    @Override public int priority() { return 100; }

    @Override public Availability availability() {
        List<String> checks = new ArrayList<>();
        // Global arena: once cuInit has run in this process, unloading libcuda again is not safe.
        Optional<String> driverProblem = probeDriver(Arena.global(), checks);
        try (Arena arena = Arena.ofConfined()) {
            for (Requirement r : LIBRARIES) checks.add(probeLibrary(r, arena));
        }
        checks.add("kernels: " + NOT_IMPLEMENTED);
        String summary = driverProblem.map(p -> p + "; Kiln runs on the CPU backend").orElse(NOT_IMPLEMENTED);
        return Availability.unavailable(summary, checks);
    }

    /** Adds the driver's check lines; returns what stops a GPU run, if the driver is the reason. */
    private static Optional<String> probeDriver(Arena arena, List<String> checks) {
        SharedLibrary.Search search = SharedLibrary.find(Driver.SONAMES, arena);
        if (search.library().isEmpty()) {
            if (!search.presentButUnloadable().isEmpty()) {
                checks.add("libcuda.so.1 found at " + search.presentButUnloadable() + " but it does not load: "
                        + "check it with ldd and reinstall the NVIDIA driver");
                return Optional.of("libcuda.so.1 does not load");
            }
            checks.add("libcuda.so.1 not found: no NVIDIA driver on this machine; Kiln runs on the CPU backend "
                    + "(install the NVIDIA driver to use a GPU)");
            return Optional.of("libcuda.so.1 not found (no NVIDIA driver)");
        }
        SharedLibrary libcuda = search.library().get();
        checks.add("libcuda.so.1: loaded from " + libcuda.location());
        try {
            Driver driver = Driver.bind(libcuda);
            int version = driver.driverVersion();
            checks.add("cuDriverGetVersion: the driver supports CUDA " + version / 1000 + "." + version % 1000 / 10);
            driver.init();
            checks.add("cuInit(0): CUDA_SUCCESS");
            int devices = driver.deviceCount();
            if (devices == 0) {
                checks.add("cuDeviceGetCount: 0 devices: the driver sees no GPU (check nvidia-smi and CUDA_VISIBLE_DEVICES)");
                return Optional.of("no CUDA device");
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

    private static String probeLibrary(Requirement r, Arena arena) {
        SharedLibrary.Search search = SharedLibrary.find(r.sonames(), arena);
        if (search.library().isPresent()) {
            SharedLibrary lib = search.library().get();
            return r.name() + ": " + lib.soname() + " loaded from " + lib.location();
        }
        String missing = r.sonames().size() == 1 ? r.sonames().getFirst() + " not found" : "none of " + String.join(", ", r.sonames()) + " found";
        if (!search.presentButUnloadable().isEmpty()) {
            List<String> files = new ArrayList<>();
            for (Path p : search.presentButUnloadable()) files.add(p.toString());
            return r.name() + ": " + String.join(", ", files) + " exists but does not load (check it with ldd: "
                    + "a dependency may be missing); " + r.fix();
        }
        return r.name() + ": " + missing + " on the loader path or in the CUDA toolkit folders; " + r.fix();
    }

    @Override public Executable compile(Program program) {
        throw new UnsupportedOperationException(NOT_IMPLEMENTED);
    }

    @Override public void evaluate(Node node, float[][] inputs, float[] out) {
        throw new UnsupportedOperationException(NOT_IMPLEMENTED);
    }
}
