package dev.kiln.bench;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;

import java.util.Optional;

/**
 * The gate of {@code ./kiln bench --device cuda}: exits 0 when the CUDA backend sees a device (driver loaded, at
 * least one GPU), else prints (on stdout) one line saying why and how to run the GPU bench on a GPU machine, and exits 2.
 */
public final class CudaDeviceCheck {
    static final String HOW = "run `./kiln bench --device cuda` on a machine with an NVIDIA GPU, or `./kiln gpu-pack` here and "
            + "`bash target/gpu-pack/run` there (bench/README.md, \"On a GPU machine\")";

    private CudaDeviceCheck() {}

    public static void main(String[] args) {
        Optional<String> problem = problem(Backend.all().stream().filter(b -> b.name().equals("cuda")).findFirst().map(Backend::availability));
        if (problem.isEmpty()) return;
        System.out.println(problem.get());   // stdout: bench-cuda.sh shows this line alone, without the JVM's warnings
        System.exit(2);
    }

    /** Why {@code --device cuda} cannot run here (empty when a device is present), as one line. */
    static Optional<String> problem(Optional<Availability> cuda) {
        if (cuda.isEmpty()) return Optional.of("kiln bench --device cuda: kiln-cuda is not on the class path; " + HOW);
        Availability a = cuda.get();
        if (a.present()) return Optional.empty();
        return Optional.of("kiln bench --device cuda: no CUDA device on this machine (" + a.summary() + "); " + HOW);
    }
}
