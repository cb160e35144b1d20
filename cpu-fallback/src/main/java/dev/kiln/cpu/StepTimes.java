package dev.kiln.cpu;

import dev.kiln.backend.Executable;
import dev.kiln.graph.Node;

/**
 * Wall time of each instruction of a compiled CPU program, for profiling (bench's StepProfile): {@link #run} runs
 * the program once, step by step, and adds each step's elapsed nanoseconds to {@code nanos[step]}. Wall time, not
 * thread CPU time, because a step's work is spread over the worker pool.
 *
 * <pre>{@code long[] ns = new long[StepTimes.count(e)]; StepTimes.run(e, ns); }</pre>
 */
public final class StepTimes {
    private StepTimes() {}

    /** The number of instructions of {@code e}, a program compiled by the CPU backend. */
    public static int count(Executable e) { return cpu(e).steps.length; }

    /** The node that instruction {@code i} computes. */
    public static Node node(Executable e, int i) { return cpu(e).instructions[i].node(); }

    /**
     * Runs every step of {@code e} in order, adding each one's nanoseconds to {@code nanos}: wall time, or with
     * {@code threadCpu} the calling thread's CPU time (all of a step's time only on a one-thread pool).
     */
    public static void run(Executable e, long[] nanos, boolean threadCpu) {
        Step[] steps = cpu(e).steps;
        java.lang.management.ThreadMXBean mx = threadCpu ? java.lang.management.ManagementFactory.getThreadMXBean() : null;
        long t = threadCpu ? mx.getCurrentThreadCpuTime() : System.nanoTime();
        for (int s = 0; s < steps.length; s++) {
            steps[s].run();
            long now = threadCpu ? mx.getCurrentThreadCpuTime() : System.nanoTime();
            nanos[s] += now - t;
            t = now;
        }
    }

    private static CpuExecutable cpu(Executable e) {
        if (e instanceof CpuExecutable c) return c;
        throw new IllegalArgumentException("StepTimes profiles programs of the CPU backend, got " + e.getClass().getName());
    }
}
