package dev.kiln.cpu;

import java.lang.reflect.InvocationTargetException;

/**
 * Chooses the kernels once per JVM. The vector class is loaded by name only after the incubator
 * module is known to be present, so the scalar path never links {@code jdk.incubator.vector}.
 * The system property {@code kiln.cpu.vector=false} forces the scalar twins (logged).
 */
final class KernelChoice {
    private static final System.Logger LOG = System.getLogger("dev.kiln.cpu");

    /** The scalar twins, on the calling thread. */
    static final CpuKernels SCALAR = new CpuKernels(new ScalarElementwise(),
            (workers, plan, a, aOff, b, bOff, c, cOff, bias, biasOff, act) -> GemmScalar.matmul(plan, a, aOff, b, bOff, c, cOff, bias, biasOff, act),
            (g, workers, workspace, pass) -> new Conv2dScalar.Prepared(g),
            (op, g, workers) -> new Pool2dScalar.Prepared(op, g),
            false);
    static final CpuKernels BEST = choose();

    private KernelChoice() {}

    private static CpuKernels choose() {
        if ("false".equalsIgnoreCase(System.getProperty("kiln.cpu.vector"))) {
            LOG.log(System.Logger.Level.INFO, "CPU kernels: scalar, forced by -Dkiln.cpu.vector=false");
            return SCALAR;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "CPU kernels: scalar, because jdk.incubator.vector is not loaded; run java with --add-modules jdk.incubator.vector for the vectorised kernels");
            return SCALAR;
        }
        ElementwiseKernels k;
        try {
            k = (ElementwiseKernels) Class.forName("dev.kiln.cpu.VectorElementwise").getDeclaredConstructor().newInstance();
        } catch (ClassNotFoundException | NoSuchMethodException | InstantiationException | IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("jdk.incubator.vector is present but the vector kernels failed to load", e);
        }
        LOG.log(System.Logger.Level.DEBUG, "CPU kernels: " + k.name());
        // the classes below link jdk.incubator.vector; the lambdas resolve them only when first called
        return new CpuKernels(k,
                Gemm::matmul,
                (g, workers, workspace, pass) -> Conv2dKernel.prepare(g, workers, workspace, pass),
                Pool2dKernel::prepare,
                true);
    }
}
