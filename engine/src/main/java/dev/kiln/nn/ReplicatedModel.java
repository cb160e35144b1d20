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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code fit} sees of data-parallel replicas: rank 0's model in every respect (names, shapes, losses, metrics,
 * the step counter, weights, evaluation, saving), except that its training program for a global batch is a
 * {@link ReplicatedStep} over every rank. Evaluation runs on rank 0 alone, on the calling thread (rank 0's).
 */
final class ReplicatedModel implements Trainable {
    private final Model lead;
    private final Model[] replicas;
    private final Ranks ranks;
    private final RankStep.Factory factory;
    private final Map<Integer, ReplicatedStep> steps = new HashMap<>();
    private final Map<Integer, RankStep[]> opened = new HashMap<>();

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
            opened.put(batch, each);
            ranks.each(r -> each[r] = factory.open(replicas[r], r, batch / n), () -> abortOpened(each));
            step = new ReplicatedStep(ranks, each, lead.gradientWeights().size());
            steps.put(batch, step);
        }
        return step;
    }

    private static void abortOpened(RankStep[] each) { for (RankStep s : each) if (s != null) s.abort(); }

    /** Closes every rank's steps, each on its rank's thread. */
    void closeSteps() {
        for (RankStep[] each : opened.values()) ranks.each(r -> { if (each[r] != null) each[r].close(); }, () -> {});
        opened.clear();
        steps.clear();
    }

    @Override public Executable evaluationProgram(int batch) { return lead.evaluationProgram(batch); }
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
    @Override public String summary() { return lead.summary(); }
    @Override public String firstLayer() { return lead.firstLayer(); }
    @Override public long iterations() { return lead.iterations(); }
    @Override public void setIterations(long t) { for (Model m : replicas) m.setIterations(t); }
    @Override public List<Variable> weights() { return lead.weights(); }
    @Override public void save(Path path) throws IOException { lead.save(path); }
    @Override public float[] predict(float[] x, int batchSize) { return lead.predict(x, batchSize); }
}
