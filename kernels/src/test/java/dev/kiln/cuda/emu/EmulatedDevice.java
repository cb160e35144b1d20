package dev.kiln.cuda.emu;

import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.ffi.CudaDriver.Dim3;
import dev.kiln.cuda.ffi.KernelArgs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test glue over a {@link CudaDriver}: host arrays in and out of device memory, and a count of the
 * kernel cases the suite ran on the emulator, which {@code EmulatorSummary} prints.
 */
public final class EmulatedDevice {
    public static final AtomicLong CASES = new AtomicLong();
    public static final AtomicLong LAUNCHES = new AtomicLong();

    private EmulatedDevice() {}

    public static long upload(CudaDriver cuda, float[] host) {
        long d = cuda.memAlloc(Math.max(4, 4L * host.length));
        cuda.memcpyHtoD(d, MemorySegment.ofArray(host), 4L * host.length);
        return d;
    }

    public static long upload(CudaDriver cuda, int[] host) {
        long d = cuda.memAlloc(Math.max(4, 4L * host.length));
        cuda.memcpyHtoD(d, MemorySegment.ofArray(host), 4L * host.length);
        return d;
    }

    public static long upload(CudaDriver cuda, double[] host) {
        long d = cuda.memAlloc(Math.max(8, 8L * host.length));
        cuda.memcpyHtoD(d, MemorySegment.ofArray(host), 8L * host.length);
        return d;
    }

    public static float[] floats(CudaDriver cuda, long d, int n) {
        float[] out = new float[n];
        cuda.memcpyDtoH(MemorySegment.ofArray(out), d, 4L * n);
        return out;
    }

    public static int[] ints(CudaDriver cuda, long d, int n) {
        int[] out = new int[n];
        cuda.memcpyDtoH(MemorySegment.ofArray(out), d, 4L * n);
        return out;
    }

    public static long[] longs(CudaDriver cuda, long d, int n) {
        long[] out = new long[n];
        cuda.memcpyDtoH(MemorySegment.ofArray(out), d, 8L * n);
        return out;
    }

    public static double[] doubles(CudaDriver cuda, long d, int n) {
        double[] out = new double[n];
        cuda.memcpyDtoH(MemorySegment.ofArray(out), d, 8L * n);
        return out;
    }

    /** Launches and counts the launch. */
    public static void launch(CudaDriver cuda, long fn, int blocks, int threads, int sharedBytes, KernelArgs args) {
        cuda.launchKernel(fn, Dim3.of(blocks), Dim3.of(threads), sharedBytes, 0, args);
        LAUNCHES.incrementAndGet();
    }

    /** Reads one float. */
    static float floatAt(MemorySegment s, long i) { return s.getAtIndex(ValueLayout.JAVA_FLOAT, i); }

    static Arena arena() { return Arena.ofConfined(); }
}
