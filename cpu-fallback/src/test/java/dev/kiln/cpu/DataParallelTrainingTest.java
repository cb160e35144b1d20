package dev.kiln.cpu;

import dev.kiln.compile.Precision;
import dev.kiln.data.Dataset;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.DataParallel;
import dev.kiln.nn.Dense;
import dev.kiln.nn.HostAllReduce;
import dev.kiln.nn.HostAveragedStep;
import dev.kiln.nn.Input;
import dev.kiln.nn.LossScale;
import dev.kiln.nn.Model;
import dev.kiln.nn.RankStep;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel training with two ranks on the CPU, each replica on its own thread and backend, the gradients averaged
 * on the host ({@link HostAllReduce}, the stand-in for NCCL's ncclAvg): it trains as one model does on the whole
 * global batch, its replicas stay equal, it is bit-identical run to run, and one rank is the plain fused step.
 *
 * <p>Tolerance against one model on the whole batch, {@value #TOLERANCE} absolute on weights: both compute the same
 * mean-loss gradient (rank r's mean over its 8 rows, averaged over 2 ranks = the mean over the 16 rows); only float
 * summation order differs, a relative error of at most about 16·2^-24 ≈ 1e-6 in each gradient, and the fused training
 * program itself differs from the split gradient + optimizer programs by up to 1e-6 (GradientProgramTest). With
 * plain SGD each of the 16 steps moves a weight by lr·g (lr 0.05, |g| below ~5 here), so these perturbations add up
 * to about 16 · 0.05 · 5 · 2e-6 ≈ 1e-5 at most; a wrong slice or a missing average moves weights by ~lr·|g| ≈ 1e-2.
 */
class DataParallelTrainingTest {
    private static final int ROWS = 64, FEATURES = 6, BATCH = 16, EPOCHS = 4;
    private static final double TOLERANCE = 1e-5;

    private static Model model() { return model(Sgd.lr(0.05)); }

    private static Model model(Sgd optimizer) {
        Model m = Sequential.of(Input.shape(FEATURES), Dense.of(12).relu(), Dense.of(8).relu(), Dense.of(1)).seed(11);
        m.backend(new CpuBackend(CpuKernels.best(), new WorkerPool(1)));   // a backend and pool per replica: the ranks run at once
        m.compile(optimizer, Loss.mse(), Metric.mae());
        return m;
    }

    private static Dataset data(int rows) { return data(rows, -1); }

    /** {@code rows} examples; example {@code poisoned} (when not -1) has 1e6 in its third feature: finite, but infinite in FP16 (above 65504). */
    private static Dataset data(int rows, int poisoned) {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[rows * FEATURES], y = new float[rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < rows; i++) y[i] = x[i * FEATURES] - 0.5f * x[i * FEATURES + 3] + 0.1f * (float) r.nextGaussian();
        if (poisoned >= 0) x[poisoned * FEATURES + 2] = 1e6f;
        return Dataset.of(x, Shape.of(rows, FEATURES), y, Shape.of(rows, 1));
    }

    private static Fit fit() { return Fit.epochs(EPOCHS).batchSize(BATCH).seed(3).verbose(false); }

    record Run(History history, List<float[]> rank0, List<float[]> rank1) {}

    private static Run dataParallel() {
        try (DataParallel dp = DataParallel.onHost(2, rank -> model())) {
            History h = dp.fit(data(ROWS), fit());
            return new Run(h, values(dp.model()), values(dp.replica(1)));   // CPU replicas hold their weights on the host
        }
    }

    @Test
    void twoRanksTrainAsOneModelOnTheWholeGlobalBatch() {
        Model single = model();
        History expected = single.fit(data(ROWS), fit());
        Run dp = dataParallel();
        List<float[]> want = values(single);
        double worst = 0;
        for (int v = 0; v < want.size(); v++) {
            for (int i = 0; i < want.get(v).length; i++) {
                double d = Math.abs(want.get(v)[i] - dp.rank0().get(v)[i]);
                worst = Math.max(worst, d);
                assertEquals(want.get(v)[i], dp.rank0().get(v)[i], TOLERANCE, single.weights().get(v).name() + "[" + i + "]");
            }
        }
        System.out.println("[kiln-cpu] data-parallel (2 ranks) vs one model on the global batch: largest weight difference " + worst
                + " after " + EPOCHS * ROWS / BATCH + " steps");
        for (String key : List.of("loss", "mae")) {
            for (int e = 0; e < EPOCHS; e++) {
                double a = expected.get(key).get(e), b = dp.history().get(key).get(e);
                assertEquals(a, b, TOLERANCE * Math.max(1, Math.abs(a)), key + " of epoch " + (e + 1));
            }
        }
        assertTrue(expected.get("loss").get(EPOCHS - 1) < expected.get("loss").get(0), "training lowers the loss: " + expected.get("loss"));
        // the average made both ranks take the same steps: their replicas are equal to the bit (their slices differ)
        for (int v = 0; v < dp.rank0().size(); v++) assertBits(dp.rank0().get(v), dp.rank1().get(v), "rank 1's " + single.weights().get(v).name());
    }

    /**
     * FP16 with a loss scale on two ranks: one training example holds 1e6, which FP16 rounds to infinity, so the step whose global batch holds
     * it (one per epoch) overflows on one rank only; the average carries the infinity to both, both skip it, and the
     * run trains as one FP16 model on the whole batch (same skips, same scale, weights within the tolerance above:
     * the rounded operands are the same, as the slices' mean-loss gradients differ from the whole batch's by a power
     * of two).
     */
    @Test
    void twoRanksInFp16SkipAStepThatOverflowsOnOneRankTogetherAndTrainAsOneModel() {
        Dataset poisoned = data(ROWS, 21);
        java.util.function.IntFunction<Model> fp16 = rank -> {
            Model m = model();
            m.compile(Sgd.lr(0.05), Loss.mse(), Precision.FP16);
            m.lossScale(LossScale.initial(1024f).growthInterval(2));
            return m;
        };
        Model single = fp16.apply(0);
        single.fit(poisoned, fit());
        try (DataParallel dp = DataParallel.onHost(2, fp16)) {
            dp.fit(poisoned, fit());
            assertEquals(EPOCHS, single.lossScale().skippedSteps(), "one poisoned step per epoch: " + single.lossScale());
            for (Model replica : List.of(dp.model(), dp.replica(1))) {
                assertEquals(single.lossScale().skippedSteps(), replica.lossScale().skippedSteps(), "skipped steps: " + replica.lossScale());
                assertEquals(single.lossScale().scale(), replica.lossScale().scale(), "scale: " + replica.lossScale());
            }
            assertClose(values(single), values(dp.model()), "rank 0 vs one FP16 model");
            List<float[]> rank0 = values(dp.model()), rank1 = values(dp.replica(1));
            for (int v = 0; v < rank0.size(); v++) assertBits(rank0.get(v), rank1.get(v), "rank 1's weight " + v);
        }
    }

    @Test
    void twoRanksAreBitIdenticalRunToRun() {
        Run a = dataParallel(), b = dataParallel();
        for (int v = 0; v < a.rank0().size(); v++) assertBits(a.rank0().get(v), b.rank0().get(v), "weight " + v);
        assertEquals(a.history().get("loss"), b.history().get("loss"));
        assertEquals(a.history().get("mae"), b.history().get("mae"));
    }

    @Test
    void oneRankIsThePlainStepWithNoAllReduce() {
        HostAllReduce reduce = new HostAllReduce(1);
        int[] opened = new int[1];
        Model plain = model();
        History expected = plain.fit(data(ROWS), fit());
        try (DataParallel dp = DataParallel.start(1, rank -> model(), (replica, rank, batch) -> {
            opened[0]++;
            return new HostAveragedStep(replica, rank, batch, reduce);
        })) {
            History h = dp.fit(data(ROWS), fit());
            assertEquals(0, opened[0], "one rank opens no data-parallel step");
            assertEquals(0, reduce.calls(), "one rank all-reduces nothing");
            assertEquals(expected.get("loss"), h.get("loss"));
            List<float[]> want = values(plain), got = values(dp.model());
            for (int v = 0; v < want.size(); v++) assertBits(want.get(v), got.get(v), "weight " + v);
        }
    }

    @Test
    void aBatchThatDoesNotSplitOverTheRanksIsRefusedWithTheFix() {
        try (DataParallel dp = DataParallel.onHost(2, rank -> model())) {
            var e = assertThrows(IllegalArgumentException.class, () -> dp.fit(data(ROWS), fit().batchSize(15)));
            assertEquals("data-parallel training on 2 ranks splits each batch evenly, but the batch size 15 is not a multiple of 2; "
                    + "use Fit.batchSize(16) (8 examples per rank per step)", e.getMessage());
        }
    }

    @Test
    void aShortLastBatchIsSplitToo() {
        // 60 rows in batches of 16: three whole batches and one of 12, 6 rows per rank
        try (DataParallel dp = DataParallel.onHost(2, rank -> model())) {
            Model single = model();
            single.fit(data(60), fit());
            dp.fit(data(60), fit());
            List<float[]> want = values(single), got = values(dp.model());
            for (int v = 0; v < want.size(); v++) {
                for (int i = 0; i < want.get(v).length; i++) assertEquals(want.get(v)[i], got.get(v)[i], TOLERANCE, "weight " + v + "[" + i + "]");
            }
        }
    }

    @Test
    void aRankThatFailsStopsTheOthersWithItsErrorInsteadOfHanging() {
        RankStep.Factory host = HostAveragedStep.over(new HostAllReduce(2));
        int[] failures = {0, Integer.MAX_VALUE};   // [opening, running]: rank 0 waits in the all-reduce for rank 1, which fails before it gets there
        try (DataParallel dp = DataParallel.start(2, rank -> model(), failingOnRank1(host, failures))) {
            var e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> assertThrows(IllegalStateException.class, () -> dp.fit(data(ROWS), fit())));
            assertEquals("rank 1 broke at step 1", e.getMessage());
        }
        var build = assertThrows(IllegalArgumentException.class, () -> DataParallel.onHost(2, rank -> rank == 1 ? null : model()));
        assertEquals("the replica builder returned null for rank 1; return a compiled model", build.getMessage());
    }

    @Test
    void aFitAfterFailedOnesTrainsAsIfTheyHadNotHappened() {
        // the first fit fails while rank 1 opens its step, the second in rank 1's first step (both abort the all-reduce);
        // the third must not fail with "another rank failed", and trains as one model does on the global batch
        Model single = model();
        single.fit(data(ROWS), fit());
        int[] failures = {1, 1};
        try (DataParallel dp = DataParallel.start(2, rank -> model(), failingOnRank1(HostAveragedStep.over(new HostAllReduce(2)), failures))) {
            var open = assertThrows(IllegalStateException.class, () -> dp.fit(data(ROWS), fit()));
            assertEquals("rank 1 could not open its step", open.getMessage());
            var run = assertThrows(IllegalStateException.class, () -> dp.fit(data(ROWS), fit()));
            assertEquals("rank 1 broke at step 1", run.getMessage());
            dp.fit(data(ROWS), fit());
            assertClose(values(single), values(dp.model()), "after two failed fits");
            List<float[]> rank1 = values(dp.replica(1));
            for (int v = 0; v < rank1.size(); v++) assertBits(values(dp.model()).get(v), rank1.get(v), "rank 1's weight " + v);
        }
    }

    /**
     * Rank 0's weights rewritten between fits (what setWeights, loadWeights and EarlyStopping's restore do to
     * {@code dp.model()} alone) reach every rank before the next fit's first step: that fit trains as one model does from
     * those weights on the global batch. Tolerance as above: the second fit's 16 steps alone, from equal weights.
     * Without the copy, rank 1 keeps its trained weights and the average mixes gradients taken at other weights.
     */
    @Test
    void rank0sWeightsSetBetweenFitsReachEveryRank() { restartedBetweenFits(Sgd.lr(0.05), TOLERANCE); }

    /**
     * Rank 0's optimizer slots rewritten between fits (momentum's velocity zeroed, as a fresh optimizer has it) reach
     * every rank too: without them rank 1 would step with its old velocity and leave rank 0. Tolerance: momentum 0.5
     * at most doubles each step's move, so twice the bound above.
     */
    @Test
    void rank0sOptimizerSlotsSetBetweenFitsReachEveryRank() { restartedBetweenFits(Sgd.lr(0.05).momentum(0.5), 2 * TOLERANCE); }

    /** One model and two ranks trained, rank 0's weights set to the initial ones and its slots zeroed, trained again: equal within {@code tolerance}. */
    private static void restartedBetweenFits(Sgd optimizer, double tolerance) {
        List<dev.kiln.eager.Tensor> restart = model().getWeights();   // the initial weights: far from the trained ones
        Model single = model(optimizer);
        single.fit(data(ROWS), fit());
        restart(single, restart);
        single.fit(data(ROWS), fit());
        try (DataParallel dp = DataParallel.onHost(2, rank -> model(optimizer))) {
            dp.fit(data(ROWS), fit());
            restart(dp.model(), restart);
            dp.fit(data(ROWS), fit());
            List<float[]> want = values(single), got = values(dp.model()), rank1 = values(dp.replica(1));
            for (int v = 0; v < want.size(); v++) {
                for (int i = 0; i < want.get(v).length; i++) assertEquals(want.get(v)[i], got.get(v)[i], tolerance, "weight " + v + "[" + i + "]");
                assertBits(got.get(v), rank1.get(v), "rank 1's weight " + v);
            }
            System.out.println("[kiln-cpu] data-parallel, second fit from rewritten weights and " + dp.model().optimizer().slots().size() + " zeroed slots: within " + tolerance + " of one model");
        }
    }

    private static void restart(Model m, List<dev.kiln.eager.Tensor> weights) {
        m.setWeights(weights);
        for (Variable slot : m.optimizer().slots()) slot.assign(new float[slot.shape().size()]);
    }

    /** Rank 1's steps fail: the first {@code failures[0]} times one is opened, then the first {@code failures[1]} times one runs. */
    private static RankStep.Factory failingOnRank1(RankStep.Factory host, int[] failures) {
        return new RankStep.Factory() {
            @Override public RankStep open(Model replica, int rank, int batch) {
                RankStep step = host.open(replica, rank, batch);
                if (rank == 0) return step;
                if (failures[0]-- > 0) throw new IllegalStateException("rank 1 could not open its step");
                return new RankStep() {
                    @Override public dev.kiln.backend.Executable gradients() { return step.gradients(); }
                    @Override public dev.kiln.backend.Executable applyGradients() { return step.applyGradients(); }
                    @Override public float run(float lr, long t) {
                        if (failures[1]-- > 0) throw new IllegalStateException("rank 1 broke at step " + t);
                        return step.run(lr, t);
                    }
                    @Override public void abort() { step.abort(); }
                };
            }
            @Override public void reset() { host.reset(); }
        };
    }

    private static void assertClose(List<float[]> want, List<float[]> got, String what) {
        double worst = 0;
        for (int v = 0; v < want.size(); v++) {
            for (int i = 0; i < want.get(v).length; i++) {
                worst = Math.max(worst, Math.abs(want.get(v)[i] - got.get(v)[i]));
                assertEquals(want.get(v)[i], got.get(v)[i], TOLERANCE, what + ": weight " + v + "[" + i + "]");
            }
        }
        System.out.println("[kiln-cpu] data-parallel, " + what + ": largest weight difference from one model " + worst);
    }

    private static void assertBits(float[] a, float[] b, String what) {
        for (int i = 0; i < a.length; i++) assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), what + "[" + i + "]: " + a[i] + " vs " + b[i]);
    }

    private static List<float[]> values(Model m) {
        List<float[]> l = new ArrayList<>();
        for (Variable v : m.weights()) l.add(v.value().clone());
        return l;
    }
}
