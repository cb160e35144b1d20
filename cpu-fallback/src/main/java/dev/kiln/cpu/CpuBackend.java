package dev.kiln.cpu;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.graph.Node;

import java.util.ArrayList;
import java.util.List;

/**
 * The CPU backend: Java Vector API kernels (scalar twins when the incubator module is absent or
 * {@code -Dkiln.cpu.kernels=scalar}), one fixed worker pool. Always usable.
 */
public final class CpuBackend implements Backend {
    public static final String KERNELS_PROPERTY = "kiln.cpu.kernels";

    private final ElementwiseKernels kernels;
    private final String kernelChoice;

    public CpuBackend() {
        String forced = System.getProperty(KERNELS_PROPERTY, "");
        if (forced.equals("scalar")) {
            kernels = new ScalarElementwise();
            kernelChoice = "scalar twins (forced by -D" + KERNELS_PROPERTY + "=scalar)";
        } else {
            kernels = ElementwiseKernels.best();
            kernelChoice = kernels instanceof ScalarElementwise
                    ? "scalar twins: jdk.incubator.vector is not loaded; run with --add-modules jdk.incubator.vector for the Vector API kernels"
                    : "Vector API kernels, " + VectorProbe.describe();
        }
    }

    @Override public String name() { return "cpu"; }

    @Override public int priority() { return 10; }

    @Override public Availability availability() {
        List<String> checks = new ArrayList<>();
        checks.add("kernels: " + kernelChoice);
        checks.add("threads: " + WorkerPool.shared().threads() + " (cores " + Runtime.getRuntime().availableProcessors() + "; set -Dkiln.threads=N to change)");
        return Availability.usable("CPU, " + (kernels instanceof ScalarElementwise ? "scalar" : "Vector API") + " kernels", checks);
    }

    @Override public Executable compile(Program program) { return new CpuExecutable(program, new CpuLowering(kernels)); }

    @Override public void evaluate(Node node, float[][] inputs, float[] out) {
        Buf[] in = new Buf[inputs.length];
        for (int i = 0; i < inputs.length; i++) in[i] = new Buf(inputs[i], 0);
        new CpuLowering(kernels).lower(node, in, out == null ? null : new Buf(out, 0)).run();
    }

    /** The kernels in use (for tests and the doctor). */
    public ElementwiseKernels kernels() { return kernels; }
}
