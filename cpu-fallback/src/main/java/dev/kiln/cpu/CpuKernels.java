package dev.kiln.cpu;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Pool2d;

/**
 * Every implementation that {@link CpuLowering} calls, chosen once (the parallel ones run on the backend's
 * {@link WorkerPool}, passed in by the lowering; the scalar twins ignore it): the Java Vector API kernels or their
 * scalar twins, never a mix. The lowering asks this record and has no {@code if (vector)} of its own, so a new
 * kind of kernel is a new component here, given in both {@link #best()} and {@link #scalar()}.
 *
 * <pre>{@code
 * new CpuBackend(CpuKernels.scalar());   // every op on the scalar twins, e.g. to test the vector kernels against
 * }</pre>
 *
 * @param elementwise      elementwise ops, reductions, movement, softmax, dropout and optimizer updates
 * @param matmul           GEMM over a plan's batches with its epilogue
 * @param conv             convolutions (forward, data and filter gradients), prepared once per node
 * @param pool             pooling and its gradient, prepared once per node
 * @param splitElementwise whether large elementwise steps are split across the worker pool
 */
public record CpuKernels(ElementwiseKernels elementwise, MatMuls matmul, Convs conv, Pools pool, boolean splitElementwise) {

    /** C = act(op(A)·op(B) + bias) for every batch of {@code plan}, bias [n] broadcast over rows (null: none); C is overwritten. */
    @FunctionalInterface
    public interface MatMuls {
        void matmul(WorkerPool workers, MatMulPlan plan, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, float[] bias, int biasOff, Epilogue.Activation act);
    }

    /** Prepares a convolution for one pass; plans and workspace reservations are made here, once. */
    @FunctionalInterface
    public interface Convs {
        Conv prepare(ConvGeometry g, WorkerPool workers, ConvWorkspace workspace, Conv2dKernel.Pass pass);
    }

    /** A prepared convolution (NHWC x, HWIO w); every output is overwritten. */
    public interface Conv {
        /** y = act(conv(x, w) + bias), bias [F] (null: none). */
        void forward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] bias, int biasOff, Epilogue.Activation act);

        void backwardData(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff);

        void backwardFilter(float[] x, int xOff, float[] dy, int dyOff, float[] dw, int dwOff);
    }

    /** Prepares a pooling for its geometry. */
    @FunctionalInterface
    public interface Pools {
        Pool prepare(Pool2d op, ConvGeometry g, WorkerPool workers);
    }

    /** A prepared pooling; dx is overwritten. */
    public interface Pool {
        void forward(float[] x, int xOff, float[] y, int yOff);

        void backward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff);
    }

    /** The Vector API kernels when {@code jdk.incubator.vector} is present (and not switched off), else the scalar twins; logged once. */
    public static CpuKernels best() { return KernelChoice.BEST; }

    /** The scalar twins; they never link {@code jdk.incubator.vector} and run on the calling thread. */
    public static CpuKernels scalar() { return KernelChoice.SCALAR; }

    /** "vector(16 x float)" or "scalar". */
    public String name() { return elementwise.name(); }
}
