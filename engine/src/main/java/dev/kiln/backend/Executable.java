package dev.kiln.backend;

import dev.kiln.compile.Program;

/**
 * A {@link Program} made runnable by a backend. Not thread-safe: one Executable per thread
 * (compile the program again for another thread; the variables are shared).
 * {@link #run()} allocates nothing in the steady state.
 */
public interface Executable extends AutoCloseable {
    Program program();

    /** Copies {@code data} (exactly the input's size) into program input {@code slot}. */
    void setInput(int slot, float[] data);

    /** Copies {@code count} values of {@code src} from {@code offset} into input {@code slot}; count must be the input's size. */
    void setInput(int slot, float[] src, int offset, int count);

    /** Runs every instruction once: values, then in-place updates. */
    void run();

    /** Copies output {@code slot} into {@code dst} (at least the output's size). */
    default void readOutput(int slot, float[] dst) { readOutput(slot, dst, 0); }

    /** Copies output {@code slot} into {@code dst} from {@code offset}. */
    void readOutput(int slot, float[] dst, int offset);

    /** The single value of a scalar output. */
    float outputScalar(int slot);

    /**
     * Makes the host copy of every variable current. A no-op where variables already live on
     * the host (CPU); a device backend copies them back.
     */
    default void syncVariables() {}

    /**
     * Scratch memory this executable holds beyond its arena and variables, in bytes: the part of a
     * memory budget that only the backend knows (0 where it holds none). Scratch a backend shares
     * across executables is not counted here.
     */
    default long workspaceBytes() { return 0; }

    @Override default void close() {}
}
