package dev.kiln.nn;

import dev.kiln.backend.Executable;

/**
 * One rank's half of a data-parallel training step: the gradient program on this rank's slice of the global batch,
 * the gradients averaged over every rank, then the optimizer's update on the average. {@link DataParallel} feeds
 * {@link #gradients()} and calls {@link #run} on the rank's own thread, all ranks at once: a step that averages
 * waits inside {@link #run} for the other ranks, so every rank applies the same update and the replicas stay equal.
 * Implementations: {@link HostAveragedStep} (any backend, the average taken on the host across the ranks' threads)
 * and, on GPUs, kiln-cuda's {@code DataParallelStep} (NCCL on the device).
 */
public interface RankStep extends AutoCloseable {
    /** Opens rank {@code rank}'s step for {@code batch} examples (its slice of the global batch) of {@code replica}, on that rank's thread. */
    interface Factory {
        RankStep open(Model replica, int rank, int batch);

        /**
         * A new {@code fit} begins, every rank idle: undo an earlier failure's {@link RankStep#abort} where the all-reduce
         * can (the host's can; an aborted NCCL communicator cannot), so that one failed fit does not fail every later one.
         */
        default void reset() {}
    }

    /** The gradient program: its batch inputs (by {@code program().inputSlot(name)}) are fed before {@link #run}. */
    Executable gradients();

    /** One step at rate {@code lr} and step counter {@code t} (from 1): gradients, average over the ranks, update; returns this rank's loss. */
    float run(float lr, long t);

    /** The optimizer's program ({@link Model#applyGradientsProgram}) that {@link #run} feeds the averaged gradients. */
    Executable applyGradients();

    /** Makes the host's copy of the replica's weights, moving statistics and optimizer slots current (a device backend's is on the device). */
    default void syncVariables() {
        gradients().syncVariables();
        applyGradients().syncVariables();
    }

    /** Another rank failed: leave any wait for it, so that this rank's thread returns (with an error) instead of blocking. */
    default void abort() {}

    @Override default void close() {}
}
