package dev.kiln.backend;

import dev.kiln.data.Batch;

/**
 * A backend's way of feeding a training step's data inputs ahead of its runs, instead of one synchronous
 * {@link Executable#setInput} per array per step: on a device, a background thread takes the loader's batches
 * into page-locked host buffers and each {@link #next()} queues an asynchronous copy into the step's fixed
 * inputs, ordered before its next {@link Executable#run()}. Obtained from {@link Executable#prefetch}; a
 * backend without one (the CPU, whose inputs are Java arrays already) returns null there and the caller keeps
 * to setInput. Covers one epoch of one loader: full batches only; a short last batch ends it and is left in
 * {@link #remainder()} for the caller's own program of that size.
 */
public interface InputFeed extends AutoCloseable {
    /** Queues the copy of the next full batch into the executable's data inputs; false when the epoch's full batches are done. */
    boolean next();

    /**
     * Copies the labels of target {@code k} (in the order of the label columns the feed was made with) of the
     * batch the last {@link #next()} queued into {@code dst}, for the host's metrics.
     */
    void labels(int k, float[] dst);

    /** The short last batch that ended the feed, to be fed with setInput; null when the epoch had none. Valid until the loader's next call. */
    Batch remainder();

    /** Stops the background thread and frees the buffers; waits for the copies in flight. */
    @Override void close();
}
