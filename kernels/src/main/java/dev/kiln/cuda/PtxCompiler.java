package dev.kiln.cuda;

import dev.kiln.cuda.ffi.Nvrtc;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * CUDA C to PTX: NVRTC at run time on a GPU machine ({@link #nvrtc}); in kiln-cuda's tests, this
 * machine's nvcc. Implementations cache by source text, so a program compiled again (or a second
 * executable of the same model) does not compile its generated kernels twice.
 */
@FunctionalInterface
public interface PtxCompiler {
    /** The PTX for {@code source}; {@code name} names it in compile errors. */
    String ptx(String name, String source);

    /** NVRTC for a device of compute capability {@code major.minor}, cached by source. */
    static PtxCompiler nvrtc(Nvrtc nvrtc, int major, int minor) {
        List<String> options = List.of("--gpu-architecture=compute_" + major + minor, "--std=c++17");
        Map<String, String> cache = new ConcurrentHashMap<>();
        return (name, source) -> cache.computeIfAbsent(source, s -> nvrtc.compile(s, name, options));
    }
}
