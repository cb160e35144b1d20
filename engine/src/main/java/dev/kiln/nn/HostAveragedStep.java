package dev.kiln.nn;

import dev.kiln.backend.Executable;
import dev.kiln.graph.Variable;

import java.util.List;

/**
 * A data-parallel rank on any backend: the replica's gradient program ({@link Model#gradientProgram}), its gradients
 * read to the host and averaged with the other ranks' by a {@link HostAllReduce}, then the optimizer's program
 * ({@link Model#applyGradientsProgram}) on the average. With one rank the gradients go to the optimizer unchanged
 * and nothing is averaged.
 *
 * <pre>{@code
 * HostAllReduce reduce = new HostAllReduce(2);
 * RankStep.Factory steps = HostAveragedStep.over(reduce);
 * }</pre>
 */
public final class HostAveragedStep implements RankStep {
    private final Executable grad, apply;
    private final HostAllReduce reduce;
    private final int rank, first;
    private final float[][] gradients, averaged;
    private final int[] applyIn;
    private final int stepIn;
    private final OptimizerUpdate update;
    private final float[] scalar = new float[1];

    public HostAveragedStep(Model replica, int rank, int batch, HostAllReduce reduce) {
        this.grad = replica.gradientProgram(batch);
        this.apply = replica.applyGradientsProgram();
        this.reduce = reduce;
        this.rank = rank;
        List<Variable> ws = replica.gradientWeights();
        this.first = grad.program().outputs().size() - ws.size();
        this.gradients = new float[ws.size()][];
        this.applyIn = new int[ws.size()];
        for (int i = 0; i < ws.size(); i++) {
            gradients[i] = new float[ws.get(i).shape().size()];
            applyIn[i] = apply.program().inputSlot("grad/" + i);
        }
        this.averaged = reduce.ranks() > 1 ? new float[ws.size()][] : gradients;
        if (reduce.ranks() > 1) for (int i = 0; i < ws.size(); i++) averaged[i] = new float[gradients[i].length];
        this.stepIn = grad.program().inputSlot("step");
        this.update = new OptimizerUpdate(apply);
    }

    /** Steps whose gradients {@code reduce} averages over its ranks. */
    public static RankStep.Factory over(HostAllReduce reduce) {
        return new RankStep.Factory() {
            @Override public RankStep open(Model replica, int rank, int batch) { return new HostAveragedStep(replica, rank, batch, reduce); }
            @Override public void reset() { reduce.reset(); }
        };
    }

    @Override public Executable gradients() { return grad; }
    @Override public Executable applyGradients() { return apply; }

    @Override public float run(float lr, long t) {
        scalar[0] = t;
        grad.setInput(stepIn, scalar);
        grad.run();
        for (int i = 0; i < gradients.length; i++) grad.readOutput(first + i, gradients[i]);
        if (reduce.ranks() > 1) reduce.average(rank, gradients, averaged);
        for (int i = 0; i < averaged.length; i++) apply.setInput(applyIn[i], averaged[i]);
        update.run(lr, t);
        return grad.outputScalar(0);
    }

    @Override public void abort() { reduce.abort(); }
}
