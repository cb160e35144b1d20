package dev.kiln.cpu;

import java.lang.reflect.InvocationTargetException;

/**
 * Chooses the kernels once per JVM. The vector class is loaded by name only after the incubator
 * module is known to be present, so the scalar path never links {@code jdk.incubator.vector}.
 * The system property {@code kiln.cpu.vector=false} forces the scalar twins (logged).
 */
final class KernelChoice {
    private static final System.Logger LOG = System.getLogger("dev.kiln.cpu");

    static final ElementwiseKernels SCALAR = new ScalarElementwise();
    static final ElementwiseKernels BEST = choose();

    private KernelChoice() {}

    private static ElementwiseKernels choose() {
        if ("false".equalsIgnoreCase(System.getProperty("kiln.cpu.vector"))) {
            LOG.log(System.Logger.Level.INFO, "CPU kernels: scalar, forced by -Dkiln.cpu.vector=false");
            return SCALAR;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "CPU kernels: scalar, because jdk.incubator.vector is not loaded; run java with --add-modules jdk.incubator.vector for the vectorised kernels");
            return SCALAR;
        }
        try {
            ElementwiseKernels k = (ElementwiseKernels) Class.forName("dev.kiln.cpu.VectorElementwise").getDeclaredConstructor().newInstance();
            LOG.log(System.Logger.Level.DEBUG, "CPU kernels: " + k.name());
            return k;
        } catch (ClassNotFoundException | NoSuchMethodException | InstantiationException | IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("jdk.incubator.vector is present but the vector kernels failed to load", e);
        }
    }
}
