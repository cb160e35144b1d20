package dev.kiln.cuda.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
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
     * NVIDIA's runfile or tarball is often not registered with ldconfig, and pip's nvidia-*
     * wheels (nvidia-cublas-cu12, nvidia-cudnn-cu12, ...) put their libraries under
     * site-packages/nvidia/NAME/lib of whichever Python installed them.
     */
    static List<Path> toolkitFolders() {
        List<Path> folders = new ArrayList<>();
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) folders.add(Path.of(cudaHome, "lib64"));
        folders.add(Path.of("/usr/local/cuda/lib64"));
        folders.add(Path.of("/usr/local/cuda/lib"));
        folders.addAll(wheelLibraryFolders(pythonSitePackages()));
        return folders;
    }

    /** Every site-packages/nvidia/NAME/lib folder under the given site-packages folders. */
    static List<Path> wheelLibraryFolders(List<Path> sitePackagesFolders) {
        List<Path> folders = new ArrayList<>();
        for (Path sitePackages : sitePackagesFolders) {
            try (DirectoryStream<Path> wheels = Files.newDirectoryStream(sitePackages.resolve("nvidia"))) {
                for (Path wheel : wheels) if (Files.isDirectory(wheel.resolve("lib"))) folders.add(wheel.resolve("lib"));
            } catch (IOException | DirectoryIteratorException notAWheelFolder) {
                // no nvidia/ here or unreadable: nothing of ours to find in this Python
            }
        }
        return folders;
    }

    /** site-packages and dist-packages of the system Pythons, the user's, an active venv and conda. */
    static List<Path> pythonSitePackages() {
        List<Path> roots = new ArrayList<>();
        String venv = System.getenv("VIRTUAL_ENV");
        if (venv != null && !venv.isBlank()) roots.add(Path.of(venv, "lib"));
        String conda = System.getenv("CONDA_PREFIX");
        if (conda != null && !conda.isBlank()) roots.add(Path.of(conda, "lib"));
        roots.add(Path.of(System.getProperty("user.home"), ".local", "lib"));
        roots.add(Path.of("/usr/local/lib"));
        roots.add(Path.of("/usr/lib"));
        List<Path> out = new ArrayList<>();
        for (Path root : roots) {
            try (DirectoryStream<Path> pythons = Files.newDirectoryStream(root, "python3*")) {
                for (Path py : pythons) {
                    for (String leaf : new String[] {"site-packages", "dist-packages"}) if (Files.isDirectory(py.resolve(leaf))) out.add(py.resolve(leaf));
                }
            } catch (IOException | DirectoryIteratorException absent) {
                // this root does not exist here
            }
        }
        return out;
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
