package dev.kiln.cuda.ffi;

import dev.kiln.cuda.CudaException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * NVRTC, CUDA's run-time compiler: CUDA C source to PTX, through {@link CudaApis#NVRTC}. Failures
 * throw {@link CudaException} with nvrtcGetErrorString's text; a compile error carries NVRTC's log.
 *
 * <pre>{@code
 * Nvrtc nvrtc = Nvrtc.load(Arena.global()).orElseThrow();
 * String ptx = nvrtc.compile(KernelSource.DROPOUT.text(), "dropout.cu", List.of("--gpu-architecture=compute_80"));
 * }</pre>
 */
public final class Nvrtc {
    private static final int NVRTC_SUCCESS = 0;

    private final CFunctions.Bound lib;

    private Nvrtc(CFunctions.Bound lib) { this.lib = lib; }

    public static Optional<Nvrtc> load(Arena arena) {
        return SharedLibrary.find(CudaApis.NVRTC_SONAMES, arena).library().map(Nvrtc::bind);
    }

    public static Nvrtc bind(SharedLibrary libnvrtc) { return new Nvrtc(CudaApis.NVRTC.bind(libnvrtc)); }

    /** "major.minor" of the NVRTC library. */
    public String version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(JAVA_INT), minor = arena.allocate(JAVA_INT);
            check(lib.status("nvrtcVersion", major, minor), "nvrtcVersion");
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        }
    }

    /** Compiles {@code source} (named {@code name} in messages) to PTX with the given nvrtc options. */
    public String compile(String source, String name, List<String> options) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment program = arena.allocate(ADDRESS);
            check(lib.status("nvrtcCreateProgram", program, arena.allocateFrom(source), arena.allocateFrom(name), 0,
                    MemorySegment.NULL, MemorySegment.NULL), "nvrtcCreateProgram");
            MemorySegment prog = program.get(ADDRESS, 0);
            try {
                MemorySegment opts = arena.allocate(ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) opts.setAtIndex(ADDRESS, i, arena.allocateFrom(options.get(i)));
                int status = lib.status("nvrtcCompileProgram", prog, options.size(), opts);
                if (status != NVRTC_SUCCESS) {
                    throw new CudaException("nvrtcCompileProgram", status, errorString(status), name + ":\n" + text(prog, "nvrtcGetProgramLogSize", "nvrtcGetProgramLog", arena));
                }
                return text(prog, "nvrtcGetPTXSize", "nvrtcGetPTX", arena);
            } finally {
                check(lib.status("nvrtcDestroyProgram", program), "nvrtcDestroyProgram");
            }
        }
    }

    private String text(MemorySegment prog, String sizeCall, String textCall, Arena arena) {
        MemorySegment size = arena.allocate(JAVA_LONG);
        check(lib.status(sizeCall, prog, size), sizeCall);
        long n = size.get(JAVA_LONG, 0);
        MemorySegment buf = arena.allocate(Math.max(1, n));
        check(lib.status(textCall, prog, buf), textCall);
        return buf.getString(0);
    }

    /** Throws {@link CudaException} with nvrtcGetErrorString's text unless {@code status} is NVRTC_SUCCESS. */
    public void check(int status, String call) {
        if (status != NVRTC_SUCCESS) throw new CudaException(call, status, errorString(status), "see the NVRTC documentation for " + errorString(status));
    }

    private String errorString(int status) {
        MemorySegment s = lib.pointer("nvrtcGetErrorString", status);
        return s.equals(MemorySegment.NULL) ? "NVRTC error " + status : s.reinterpret(4096).getString(0);
    }
}
