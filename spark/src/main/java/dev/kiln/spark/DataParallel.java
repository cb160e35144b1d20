package dev.kiln.spark;

import dev.kiln.nn.Model;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * How {@link KilnSpark#fit} trains: {@code tasks} replicas in one barrier stage, each on its own partition, each step
 * on {@code batchSize} rows per replica (a global batch of tasks × batchSize), gradients averaged by a ring
 * all-reduce after every step. Optimizers and losses are not serializable, so the replicas are compiled by
 * {@code compile}, a serializable lambda: {@code m -> m.compile(Adam.lr(1e-3), Loss.mae())}.
 *
 * @param tasks          replicas (barrier tasks); the DataFrame is split into this many partitions
 * @param features       the input columns, one number per model input value, in order
 * @param label          the target column (a number)
 * @param batchSize      rows per replica per step
 * @param epochs         passes over the data; an epoch is as many steps as the smallest partition holds whole batches
 * @param stepsPerEpoch  at most this many steps per epoch (0: all)
 * @param checkpoints    a folder every task reads and rank 0 writes (shared storage on a cluster), or null: one
 *                       atomic checkpoint per epoch, and a retried stage resumes from the latest
 * @param timeoutMillis  how long a peer may stay silent before the stage fails naming it
 * @param bucketFloats   gradient values per all-reduce bucket
 * @param compile        compiles each replica (optimizer, loss)
 * @param fault          a fault to inject (tests, drills), or null
 */
public record DataParallel(int tasks, List<String> features, String label, int batchSize, int epochs, int stepsPerEpoch, String checkpoints,
                           int timeoutMillis, int bucketFloats, Compile compile, Fault fault) implements Serializable {
    /** A serializable {@code model.compile(...)} call. */
    @FunctionalInterface public interface Compile extends Consumer<Model>, Serializable {}

    /**
     * An injected fault, on the stage's first attempt only: on global step {@code step} (0-based, counted from the start
     * of training), rank {@code rank} throws, or with {@code hangMillis} > 0 stops answering for that long.
     */
    public record Fault(int rank, long step, long hangMillis) implements Serializable {
        public static Fault exception(int rank, long step) { return new Fault(rank, step, 0); }
        public static Fault hang(int rank, long step, long millis) { return new Fault(rank, step, millis); }
    }

    public DataParallel {
        if (tasks < 1) throw new IllegalArgumentException("tasks must be >= 1, got " + tasks);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        if (timeoutMillis < 1) throw new IllegalArgumentException("timeout must be >= 1 ms, got " + timeoutMillis);
        if (bucketFloats < 1) throw new IllegalArgumentException("bucket must be >= 1 value, got " + bucketFloats);
        features = List.copyOf(features);
    }

    /** {@code tasks} replicas on {@code features} -> {@code label}, batches of 32 per replica, one epoch, 60 s timeout, 1 Mi-value buckets. */
    public static DataParallel of(int tasks, List<String> features, String label, Compile compile) {
        return new DataParallel(tasks, features, label, 32, 1, 0, null, 60_000, 1 << 18, compile, null);
    }

    public DataParallel batchSize(int b) { return new DataParallel(tasks, features, label, b, epochs, stepsPerEpoch, checkpoints, timeoutMillis, bucketFloats, compile, fault); }
    public DataParallel epochs(int e) { return new DataParallel(tasks, features, label, batchSize, e, stepsPerEpoch, checkpoints, timeoutMillis, bucketFloats, compile, fault); }
    public DataParallel stepsPerEpoch(int s) { return new DataParallel(tasks, features, label, batchSize, epochs, s, checkpoints, timeoutMillis, bucketFloats, compile, fault); }
    public DataParallel checkpoints(Path dir) { return new DataParallel(tasks, features, label, batchSize, epochs, stepsPerEpoch, dir == null ? null : dir.toAbsolutePath().toString(), timeoutMillis, bucketFloats, compile, fault); }
    public DataParallel timeoutMillis(int t) { return new DataParallel(tasks, features, label, batchSize, epochs, stepsPerEpoch, checkpoints, t, bucketFloats, compile, fault); }
    public DataParallel bucketFloats(int b) { return new DataParallel(tasks, features, label, batchSize, epochs, stepsPerEpoch, checkpoints, timeoutMillis, b, compile, fault); }
    public DataParallel fault(Fault f) { return new DataParallel(tasks, features, label, batchSize, epochs, stepsPerEpoch, checkpoints, timeoutMillis, bucketFloats, compile, f); }
}
