package dev.kiln.nn;

import dev.kiln.backend.Executable;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.optim.Optimizer;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Trainable;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code fit} sees of data-parallel replicas: rank 0's model in every respect (names, shapes, losses, metrics,
 * the step counter, weights, evaluation, saving), except that its training program for a global batch is a
 * {@link ReplicatedStep} over every rank. Evaluation runs on rank 0 alone, on the calling thread (rank 0's).
 * Every fit starts from rank 0's host state on every rank ({@link #startFromLead}): whatever rewrote rank 0's weights
 * between fits (setWeights, loadWeights, EarlyStopping's restore) reaches the other replicas before they take a step.
 */
final class ReplicatedModel implements Trainable {
    private final Model lead;
    private final Model[] replicas;
    private final Ranks ranks;
    private final RankStep.Factory factory;
    private final Map<Integer, ReplicatedStep> steps = new HashMap<>();
    private final List<RankStep[]> opened = new ArrayList<>();

    ReplicatedModel(Model[] replicas, Ranks ranks, RankStep.Factory factory) {
        this.replicas = replicas;
        this.lead = replicas[0];
        this.ranks = ranks;
        this.factory = factory;
    }

    /** The step for a global batch of {@code batch} rows: each rank's step for {@code batch / n} rows, opened on its thread on first use. */
    @Override public Executable trainingProgram(int batch) {
        int n = replicas.length;
        if (batch % n != 0) throw new IllegalArgumentException("a batch of " + batch + " examples does not split evenly over " + n + " ranks; use a multiple of " + n);
        ReplicatedStep step = steps.get(batch);
        if (step == null) {
            RankStep[] each = new RankStep[n];
            opened.add(each);   // closed with the others even when another rank failed to open its step
            ranks.each(r -> each[r] = factory.open(replicas[r], r, batch / n), () -> abortOpened(each));
            step = new ReplicatedStep(ranks, each, lead.gradientWeights().size());
            steps.put(batch, step);
        }
        return step;
    }

    private static void abortOpened(RankStep[] each) { for (RankStep s : each) if (s != null) s.abort(); }

    /** Closes every rank's steps, each on its rank's thread. */
    void closeSteps() {
        RuntimeException failed = null;
        try {
            for (RankStep[] each : opened) {
                try {
                    ranks.each(r -> { if (each[r] != null) each[r].close(); }, () -> {});
                } catch (RuntimeException e) {   // the other batch sizes' steps are closed all the same
                    if (failed == null) failed = e; else failed.addSuppressed(e);
                }
            }
        } finally {
            opened.clear();
            steps.clear();
        }
        if (failed != null) throw failed;
    }

    /**
     * Before every fit with several ranks: the all-reduce mended after an earlier fit's failure, and rank 0's host
     * weights (moving statistics included), optimizer slots, loss-scale state and step counter assigned to every
     * replica, rank 0's own too. Assigning moves each variable's version, so a device backend uploads the host's values on every rank before
     * the first step: all ranks start from the same values even when a failed fit left rank 0's device ahead of its
     * host copy (current after each epoch) or the user rewrote rank 0's.
     */
    void startFromLead() {
        factory.reset();
        if (lead.optimizer() == null) throw new IllegalStateException("model '" + lead.name() + "' was compiled without an optimizer; compile every replica with one before data-parallel training");
        List<Variable> weights = lead.weights(), slots = lead.optimizer().slots();
        LossScale scale = lead.lossScale();
        for (int r = 0; r < replicas.length; r++) {
            assignAll(weights, replicas[r].weights(), r, "weights");
            assignAll(slots, replicas[r].optimizer().slots(), r, "optimizer slots");
            replicas[r].setIterations(lead.iterations());
            LossScale own = replicas[r].lossScale();
            if ((own == null) != (scale == null)) {
                throw new IllegalStateException("rank " + r + "'s replica " + (own == null ? "does not scale its loss where rank 0's does" : "scales its loss where rank 0's does not")
                        + "; build every replica with the same precision and loss scale");
            }
            // the same scale state everywhere, as the weights: the average's finite check then skips the same steps on
            // every rank and the scales move together
            if (own != null) assignAll(scale.state(), own.state(), r, "loss-scale state");
        }
    }

    private static void assignAll(List<Variable> from, List<Variable> to, int rank, String what) {
        if (from.size() != to.size()) {
            throw new IllegalStateException("rank " + rank + "'s replica has " + to.size() + " " + what + " where rank 0's has " + from.size()
                    + "; build every replica with the same architecture and optimizer");
        }
        for (int i = 0; i < from.size(); i++) to.get(i).assign(from.get(i).value());
    }

    /** Rank 0's evaluation program, rank 0's resources bound to the calling thread first (a fit from another thread). */
    @Override public Executable evaluationProgram(int batch) {
        ranks.enterLead();
        return lead.evaluationProgram(batch);
    }
    @Override public String name() { return lead.name(); }
    @Override public List<String> inputNames() { return lead.inputNames(); }
    @Override public Shape inputShape(int i) { return lead.inputShape(i); }
    @Override public String programInputName(int i) { return lead.programInputName(i); }
    @Override public List<String> outputNames() { return lead.outputNames(); }
    @Override public Shape outputShape(int k) { return lead.outputShape(k); }
    @Override public Shape targetShape(int k) { return lead.targetShape(k); }
    @Override public String programTargetName(int k) { return lead.programTargetName(k); }
    @Override public List<Loss> losses() { return lead.losses(); }
    @Override public List<Metric> metrics() { return lead.metrics(); }
    @Override public Optimizer optimizer() { return lead.optimizer(); }
    @Override public boolean scalesLoss() { return lead.scalesLoss(); }
    @Override public String summary() { return lead.summary(); }
    @Override public String firstLayer() { return lead.firstLayer(); }
    @Override public long iterations() { return lead.iterations(); }
    @Override public void setIterations(long t) { for (Model m : replicas) m.setIterations(t); }
    @Override public List<Variable> weights() { return lead.weights(); }
    @Override public void save(Path path) throws IOException { lead.save(path); }
    @Override public float[] predict(float[] x, int batchSize) {
        ranks.enterLead();
        return lead.predict(x, batchSize);
    }
}
