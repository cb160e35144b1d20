package dev.kiln.nn;

import dev.kiln.data.Dataset;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import dev.kiln.train.Trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Data-parallel training in one process: one replica of the model per rank (a GPU each, on kiln-cuda's
 * {@code MultiGpu}), each on its own thread, every replica starting each {@code fit} from rank 0's weights (moving
 * statistics, optimizer slots and step counter too, so rank 0's rewritten weights reach every rank). {@link #fit} is the
 * ordinary {@code fit} loop over global batches: each epoch's shuffled batch order is the one {@code model.fit}
 * would use on the same training examples (same seed, same batches), and rank r trains on rows {@code [r·b, (r+1)·b)}
 * of each batch of {@code n·b}; the ranks' gradients are averaged (mean losses over equal slices), so every replica
 * takes the same step. Without batch normalization that average is the whole batch's gradient. With it, it is not:
 * each rank normalizes with its own slice's mean and variance (no statistics cross ranks), and the moving statistics
 * that evaluation uses are rank 0's, from rank 0's slices. Epoch loss and metrics are over the whole batches; rank 0's
 * weights reach the host model ({@link #model()}) at each epoch's end, before callbacks and validation (rank 0 alone).
 * With one rank, {@code fit} is the model's own {@code fit}: the fused step, no all-reduce. A model that scales its loss
 * (FP16) scales on every rank from rank 0's scale; each rank's optimizer program checks the averaged gradients, so a
 * non-finite gradient on any rank skips the step on all of them and their scales stay equal.
 *
 * <p>Dropout draws its masks from the replica's seed: build replica r with a seed of its own (its weights are replaced
 * by rank 0's anyway), or every rank drops the same units at the same row of its slice.
 *
 * <p>Rows: every batch is split evenly, so the batch size must be a multiple of the rank count, and the last
 * {@code size % n} training examples (after a validation split) are left out, with a note; the shuffle is then over the
 * examples kept, so the batches differ from {@code model.fit}'s on all of them.
 *
 * <pre>{@code
 * try (DataParallel dp = DataParallel.onHost(2, rank -> buildAndCompile(seed + rank))) {
 *     History h = dp.fit(train, Fit.epochs(5).batchSize(128));   // 64 rows per rank per step
 *     dp.model().save(path);
 * }
 * }</pre>
 */
public final class DataParallel implements AutoCloseable {
    private final Ranks ranks;
    private final Model[] replicas;
    private final ReplicatedModel view;
    private final RankResources bound;
    private final List<AutoCloseable> resources = new ArrayList<>();

    private DataParallel(Ranks ranks, Model[] replicas, RankStep.Factory steps, RankResources bound) {
        this.ranks = ranks;
        this.replicas = replicas;
        this.bound = bound;
        this.view = new ReplicatedModel(replicas, ranks, steps);
    }

    /**
     * {@code count} ranks: replica r is made by {@code build.apply(r)} (a compiled model on rank r's backend) on rank
     * r's thread, then given rank 0's weights and step counter (again at every {@link #fit}); {@code steps} opens each
     * rank's training step.
     */
    public static DataParallel start(int count, IntFunction<Model> build, RankStep.Factory steps) {
        return start(count, build, steps, RankResources.NONE);
    }

    /** As {@link #start(int, IntFunction, RankStep.Factory)}, each rank holding {@code bound} (a GPU) that this binds to its thread and releases on close. */
    public static DataParallel start(int count, IntFunction<Model> build, RankStep.Factory steps, RankResources bound) {
        Ranks ranks = new Ranks(count, bound::enter);
        Model[] replicas = new Model[count];
        DataParallel dp;
        try {
            ranks.each(r -> replicas[r] = build.apply(r), () -> {});
            for (int r = 0; r < count; r++) {
                if (replicas[r] == null) throw new IllegalArgumentException("the replica builder returned null for rank " + r + "; return a compiled model");
                replicas[r].requireCompiled();
            }
            dp = new DataParallel(ranks, replicas, steps, bound);
            dp.view.startFromLead();
        } catch (RuntimeException | Error e) {
            try {
                ranks.each(bound::release, () -> {});
            } catch (RuntimeException | Error released) {
                e.addSuppressed(released);
            }
            ranks.close();
            throw e;
        }
        return dp;
    }

    /** {@code count} ranks whose gradients are averaged on the host ({@link HostAllReduce}): any backend, a thread per rank. */
    public static DataParallel onHost(int count, IntFunction<Model> build) {
        return start(count, build, HostAveragedStep.over(new HostAllReduce(count)));
    }

    public int ranks() { return replicas.length; }

    /**
     * Rank 0's model: the one whose weights are current on the host after each epoch; save and predict with it. On a
     * GPU, predict on a thread where rank 0's context is current: the one that started the ranks, or one that called fit.
     */
    public Model model() { return replicas[0]; }

    /** Rank r's replica (its host weights are rank 0's at the start of every fit; only rank 0's are brought back to the host). */
    public Model replica(int r) { return replicas[r]; }

    /** Closes {@code resource} (a communicator, say) when this closes, after the ranks' steps; later ones first. */
    public DataParallel closing(AutoCloseable resource) { resources.add(resource); return this; }

    /** Trains every replica as {@code fit} says on global batches of {@code fit.batchSize()}; see the class comment. */
    public History fit(Dataset data, Fit fit) {
        int n = replicas.length;
        if (n == 1) {
            ranks.enterLead();
            return model().fit(data, fit);
        }
        if (fit.batchSize() % n != 0) {
            int up = (fit.batchSize() + n - 1) / n * n;
            throw new IllegalArgumentException("data-parallel training on " + n + " ranks splits each batch evenly, but the batch size " + fit.batchSize()
                    + " is not a multiple of " + n + "; use Fit.batchSize(" + up + ") (" + up / n + " examples per rank per step)");
        }
        Trainer.Parts parts = Trainer.parts(data, fit);
        Dataset train = parts.train();
        int left = train.size() % n;
        if (train.size() < n) throw new IllegalArgumentException("data-parallel training on " + n + " ranks needs at least " + n + " training examples, got " + train.size());
        if (left > 0) {
            System.err.println("kiln: data-parallel training on " + n + " ranks uses " + (train.size() - left) + " of " + train.size()
                    + " training examples: the last " + left + " do not split evenly over the ranks");
            int[] kept = new int[train.size() - left];
            for (int i = 0; i < kept.length; i++) kept[i] = i;
            train = train.subset(kept);
        }
        view.startFromLead();
        return Trainer.fit(view, train, fit.validation(parts.validation()));
    }

    /** Closes the ranks' steps, then the resources handed to {@link #closing}, then releases each rank's {@link RankResources}, then ends the ranks' threads. */
    @Override public void close() {
        RuntimeException failure = null;
        try {
            view.closeSteps();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (failure == null) failure = new IllegalStateException("closing " + resources.get(i) + " failed: " + e.getMessage(), e);
                else failure.addSuppressed(e);
            }
        }
        try {
            ranks.each(bound::release, () -> {});
        } catch (RuntimeException e) {
            if (failure == null) failure = e;
            else failure.addSuppressed(e);
        }
        ranks.close();
        if (failure != null) throw failure;
    }
}
