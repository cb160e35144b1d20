package dev.kiln.backend;

import java.lang.foreign.MemorySegment;

/**
 * A backend's way of feeding an executable's data inputs ahead of its runs, instead of one synchronous
 * {@link Executable#setInput} per array per step: on a device, a background thread has a {@link Source} write the
 * next batch into page-locked host buffers while the device runs the current step, and each {@link #next()} queues
 * an asynchronous copy of a filled set into the executable's fixed inputs, ordered before its next
 * {@link Executable#run()}. Obtained from {@link Executable#prefetch}; a backend without one (the CPU, whose inputs
 * are Java arrays already) returns null there and the caller keeps to setInput.
 */
public interface InputFeed extends AutoCloseable {
    /** The producer, called on the feed's thread: writes the next batch into {@code into} (one segment per slot, in slot order, each exactly that input's size); false when done. */
    interface Source {
        boolean fill(MemorySegment[] into) throws Exception;
    }

    /** Queues the copy of the next filled batch into the executable's inputs; false when the source is done. A failure of the source is rethrown here. */
    boolean next();

    /** The host buffer of slot {@code i} (in slot order) of the batch the last {@link #next()} queued: readable (for the host's metrics) until the next call. */
    MemorySegment current(int i);

    /** Stops the background thread and frees the buffers, once the copies in flight have passed. */
    @Override void close();
}
