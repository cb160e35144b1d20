package dev.kiln.cuda.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A native library opened through FFM, and where it was found. The CUDA libraries change soname
 * with every major release (libcublas.so.12, .13, ...), so callers give the sonames they can work
 * with, newest first, and learn which one this machine has.
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofConfined()) {
 *     SharedLibrary.Search cublas = SharedLibrary.find(List.of("libcublas.so.13", "libcublas.so.12"), arena);
 * }
 * }</pre>
 */
public record SharedLibrary(String soname, String location, SymbolLookup lookup) {

    /**
     * Folders tried after the dynamic loader's own search path: a CUDA toolkit installed by
     * NVIDIA's runfile or tarball is often not registered with ldconfig.
     */
    static List<Path> toolkitFolders() {
        List<Path> folders = new ArrayList<>();
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) folders.add(Path.of(cudaHome, "lib64"));
        folders.add(Path.of("/usr/local/cuda/lib64"));
        folders.add(Path.of("/usr/local/cuda/lib"));
        return folders;
    }

    /** What a search found: the library, if any, and the files that exist but would not load. */
    public record Search(Optional<SharedLibrary> library, List<Path> presentButUnloadable) {
        public Search { presentButUnloadable = List.copyOf(presentButUnloadable); }
    }

    /**
     * Looks for the first of {@code sonames} that loads, first by the loader's search path
     * (LD_LIBRARY_PATH, ldconfig), then in the toolkit folders. The library stays loaded while
     * {@code arena} is open.
     */
    public static Search find(List<String> sonames, Arena arena) {
        List<Path> unloadable = new ArrayList<>();
        for (String soname : sonames) {
            try {
                return new Search(Optional.of(new SharedLibrary(soname, "loader search path", SymbolLookup.libraryLookup(soname, arena))), unloadable);
            } catch (IllegalArgumentException notOnSearchPath) {
                // libraryLookup says "cannot open" this way and carries no more detail; the folders below are the next place to look.
            }
            for (Path folder : toolkitFolders()) {
                Path file = folder.resolve(soname);
                if (!Files.exists(file)) continue;
                try {
                    return new Search(Optional.of(new SharedLibrary(soname, file.toString(), SymbolLookup.libraryLookup(file, arena))), unloadable);
                } catch (IllegalArgumentException cannotLoad) {
                    unloadable.add(file);
                }
            }
        }
        return new Search(Optional.empty(), unloadable);
    }
}
