package dev.kiln.cpu;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.graph.Node;

import java.util.ArrayList;
import java.util.List;

/**
 * The CPU backend: Java Vector API kernels, or their scalar twins when the incubator module is
 * absent or {@code -Dkiln.cpu.vector=false} (see {@link KernelChoice}); one fixed worker pool, which the backend
 * owns and hands to every kernel it lowers. Always usable.
 *
 * <pre>{@code
 * new CpuBackend()                                   // Vector API kernels on the process's default pool
 * new CpuBackend(CpuKernels.best(), new WorkerPool(1)) // the same kernels on the calling thread alone
 * }</pre>
 *
 * Backends made without a pool ({@link java.util.ServiceLoader} makes one each time a backend is chosen) share one
 * pool of {@link WorkerPool#defaultThreads()} threads, made on first use: a pool per instance would start threads
 * for every program compiled.
 */
public final class CpuBackend implements Backend {
    private final CpuKernels kernels;
    private final WorkerPool pool;

    public CpuBackend() { this(CpuKernels.best()); }

    /** A backend on the given kernels: {@code CpuKernels.scalar()} runs every op on the scalar twins. */
    public CpuBackend(CpuKernels kernels) { this(kernels, DefaultPool.POOL); }

    /** A backend on the given kernels and worker pool. */
    public CpuBackend(CpuKernels kernels, WorkerPool pool) {
        if (pool == null) throw new IllegalArgumentException("CpuBackend needs a worker pool, e.g. new WorkerPool(WorkerPool.defaultThreads())");
        this.kernels = kernels;
        this.pool = pool;
    }

    // made on first use, by the first backend built without a pool
    private static final class DefaultPool {
        static final WorkerPool POOL = new WorkerPool(WorkerPool.defaultThreads());
    }
    @Override public String name() { return "cpu"; }

    @Override public int priority() { return 10; }

    @Override public Availability availability() {
        List<String> checks = new ArrayList<>();
        boolean vector = kernels != CpuKernels.scalar();
        if (vector) {
            checks.add("kernels: Vector API, " + kernels.name() + " (jdk.incubator.vector loaded; -Dkiln.cpu.vector=false forces the scalar twins)");
        } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            checks.add("kernels: scalar twins, because jdk.incubator.vector is not loaded; run java with --add-modules jdk.incubator.vector for the Vector API kernels");
        } else {
            checks.add("kernels: scalar twins (forced by -Dkiln.cpu.vector=false)");
        }
        checks.add("threads: " + pool.threads() + " (cores " + Runtime.getRuntime().availableProcessors() + "; -Dkiln.threads=N changes it)");
        return Availability.usable("CPU, " + (vector ? "Vector API" : "scalar") + " kernels", checks);
    }

    @Override public Executable compile(Program program) { return new CpuExecutable(program, new CpuLowering(kernels, pool)); }

    @Override public void evaluate(Node node, float[][] inputs, float[] out) {
        Buf[] in = new Buf[inputs.length];
        for (int i = 0; i < inputs.length; i++) in[i] = new Buf(inputs[i], 0);
        new CpuLowering(kernels, pool).lower(node, in, out == null ? null : new Buf(out, 0)).run();
    }

    /** The kernels in use. */
    public CpuKernels kernels() { return kernels; }

    /** The worker pool every kernel of this backend runs on. */
    public WorkerPool pool() { return pool; }
}
