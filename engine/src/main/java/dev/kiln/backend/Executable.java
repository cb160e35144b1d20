package dev.kiln.backend;

import dev.kiln.compile.Program;

/**
 * A {@link Program} made runnable by a backend. Not thread-safe: one Executable per thread
 * (compile the program again for another thread; the variables are shared).
 *
 * <p><b>Memory.</b> An executable owns its memory: the arena of intermediates and the program's inputs and
 * outputs live where its backend put them (Java arrays on the CPU, device memory on a GPU), and no caller
 * holds a reference into them. Host copies happen only at these named points:
 * <ul>
 *   <li>in: {@link #setInput} copies host values into an input;</li>
 *   <li>out: {@link #readOutput} copies an output to the host, {@link #outputScalar} reads one value;</li>
 *   <li>variables: {@link #syncVariables()} makes every {@link dev.kiln.graph.Variable#value()} current.</li>
 * </ul>
 * {@link #run()} copies nothing between host and device and allocates nothing in the steady state.
 * Variables are the one memory that executables share: a backend keeps one copy of each variable for every
 * executable it compiled (on the CPU, the variable's own array), so a training program's updates are seen by
 * the prediction program without a copy; only the host's view of them waits for {@link #syncVariables()}.
 */
public interface Executable extends AutoCloseable {
    Program program();

    /** Host to executable: copies {@code data} (exactly the input's size) into program input {@code slot}. */
    void setInput(int slot, float[] data);

    /** Copies {@code count} values of {@code src} from {@code offset} into input {@code slot}; count must be the input's size. */
    void setInput(int slot, float[] src, int offset, int count);

    /** Runs every instruction once: values, then in-place updates. */
    void run();

    /** Executable to host: copies output {@code slot} into {@code dst} (at least the output's size). */
    default void readOutput(int slot, float[] dst) { readOutput(slot, dst, 0); }

    /** Copies output {@code slot} into {@code dst} from {@code offset}. */
    void readOutput(int slot, float[] dst, int offset);

    /** Executable to host: the single value of a scalar output (the loss, a step's metric). */
    float outputScalar(int slot);

    /**
     * Executable to host: makes the host copy ({@link dev.kiln.graph.Variable#value()}) of every variable current.
     * Call it before the host reads weights (saving, evaluating on the host, comparing). A no-op where variables
     * already live on the host (CPU); a device backend copies them back.
     */
    default void syncVariables() {}

    /**
     * Scratch memory this executable holds beyond its arena and variables, in bytes: the part of a
     * memory budget that only the backend knows (0 where it holds none). Scratch a backend shares
     * across executables is not counted here.
     */
    default long workspaceBytes() { return 0; }

    /**
     * Optional capability: an {@link InputFeed} that fills inputs {@code slots} from {@code source}, batch by batch,
     * ahead of the runs (pinned, prefetched copies on a device). Null (the default) where the backend feeds no faster
     * than {@link #setInput}: the caller then feeds each batch itself, and {@code source} is not called.
     */
    default InputFeed prefetch(int[] slots, InputFeed.Source source) { return null; }

    @Override default void close() {}
}
