package dev.kiln.nn;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.compile.Slot;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Placeholder;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * A data-parallel training step that looks like one training program for the global batch, so that the ordinary
 * {@code fit} loop drives it: inputs named as the training program's (the model's inputs and targets with
 * {@code n·b} rows, "lr", "step"), outputs [loss, predictions..., per-output losses...]. A run hands rank {@code r}
 * rows {@code [r·b, (r+1)·b)} of every batch input (a disjoint slice; the slices in rank order are the batch) and
 * runs every rank's {@link RankStep} at once; the loss is the ranks' mean losses averaged in rank order (each slice
 * has b rows, so this is the batch's mean loss), and the predictions are the ranks' concatenated in rank order.
 * Each rank's outputs are read on its own thread, after its step.
 */
final class ReplicatedStep implements Executable {
    private final Ranks ranks;
    private final RankStep[] steps;
    private final Program program;
    private final int n, dataInputs, stepSlot, lrSlot, outputs;
    private final float[][] src;
    private final int[] offset, count;
    private final boolean[] scalarOutput;
    private final float[][] scalars;       // [rank][output]
    private final float[][][] batched;     // [rank][output]: the rank's rows of a batched output
    private float lr, t;
    private final IntConsumer runRank = this::runRank;
    private final Runnable abort = this::abort;

    /** {@code steps[r]}: rank r's step for the same slice size; {@code gradientCount}: how many trailing outputs of its gradient program are gradients. */
    ReplicatedStep(Ranks ranks, RankStep[] steps, int gradientCount) {
        this.ranks = ranks;
        this.steps = steps.clone();
        this.n = steps.length;
        Program rank = steps[0].gradients().program();
        List<Node> inputs = new ArrayList<>();
        int stepAt = -1;
        for (int i = 0; i < rank.inputs().size(); i++) {
            Placeholder p = (Placeholder) rank.inputs().get(i).op();
            if (p.inputName().equals("step")) stepAt = i;
            inputs.add(stepAt == i ? rank.inputs().get(i) : Ops.input(p.inputName(), p.shape().withDim(0, n * p.shape().dim(0))));
        }
        if (stepAt < 0) throw new IllegalArgumentException("a rank's gradient program has no input named 'step'; inputs: " + rank.inputNames());
        this.stepSlot = stepAt;
        this.dataInputs = rank.inputs().size();
        this.lrSlot = inputs.size();
        inputs.add(Ops.input("lr", Shape.SCALAR));
        this.outputs = rank.outputs().size() - gradientCount;
        List<Slot> outs = new ArrayList<>();
        this.scalarOutput = new boolean[outputs];
        this.scalars = new float[n][outputs];
        this.batched = new float[n][outputs][];
        for (int k = 0; k < outputs; k++) {
            Slot s = rank.outputs().get(k);
            scalarOutput[k] = s.shape().rank() == 0;
            outs.add(scalarOutput[k] ? s : new Slot(s.storage(), s.index(), s.offset(), s.shape().withDim(0, n * s.shape().dim(0))));
            for (int r = 0; r < n; r++) if (!scalarOutput[k]) batched[r][k] = new float[s.size()];
        }
        // an interface only: no instructions; the ranks' programs do the work
        this.program = new Program(List.of(), inputs, outs, List.of(), List.of(), 0, rank.checkNumerics(), rank.precision());
        this.src = new float[dataInputs][];
        this.offset = new int[dataInputs];
        this.count = new int[dataInputs];
    }

    @Override public Program program() { return program; }

    @Override public void setInput(int slot, float[] data) { setInput(slot, data, 0, data.length); }

    @Override public void setInput(int slot, float[] data, int from, int length) {
        if (slot == lrSlot) { lr = data[from]; return; }
        if (slot == stepSlot) { t = data[from]; return; }
        if (length % n != 0) {
            throw new IllegalArgumentException("input '" + program.inputNames().get(slot) + "' got " + length + " values, which " + n
                    + " ranks cannot split evenly; feed whole batches of the size this step was made for");
        }
        src[slot] = data;
        offset[slot] = from;
        count[slot] = length;
    }

    @Override public void run() { ranks.each(runRank, abort); }

    /** Rank r's part of a run, on its thread: feed its slice, step, read its outputs. */
    private void runRank(int r) {
        Executable g = steps[r].gradients();
        for (int s = 0; s < dataInputs; s++) {
            if (s == stepSlot) continue;
            if (src[s] == null) throw new IllegalStateException("input '" + program.inputNames().get(s) + "' was never fed; feed every batch input before run()");
            int part = count[s] / n;
            g.setInput(s, src[s], offset[s] + r * part, part);
        }
        steps[r].run(lr, (long) t);
        for (int k = 0; k < outputs; k++) {
            if (scalarOutput[k]) scalars[r][k] = g.outputScalar(k);
            else g.readOutput(k, batched[r][k]);
        }
    }

    private void abort() { for (RankStep s : steps) s.abort(); }

    /** A scalar output (a loss): the ranks' values averaged in rank order. */
    @Override public float outputScalar(int slot) {
        if (!scalarOutput[slot]) throw new IllegalArgumentException("output " + slot + " is not a scalar; read it with readOutput");
        float sum = 0;
        for (int r = 0; r < n; r++) sum += scalars[r][slot];
        return sum / n;
    }

    /** A batched output (predictions): the ranks' rows in rank order. */
    @Override public void readOutput(int slot, float[] dst, int at) {
        if (scalarOutput[slot]) { dst[at] = outputScalar(slot); return; }
        for (int r = 0; r < n; r++) System.arraycopy(batched[r][slot], 0, dst, at + r * batched[r][slot].length, batched[r][slot].length);
    }

    /** Rank 0's weights and optimizer state to the host (the ranks hold equal ones), on the calling thread: rank 0's. */
    @Override public void syncVariables() {
        ranks.enterLead();
        steps[0].syncVariables();
    }
}
