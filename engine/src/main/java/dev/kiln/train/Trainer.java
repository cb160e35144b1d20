package dev.kiln.train;

import dev.kiln.backend.Executable;
import dev.kiln.backend.InputFeed;
import dev.kiln.data.Batch;
import dev.kiln.data.Batches;
import dev.kiln.data.Dataset;
import dev.kiln.data.Loader;
import dev.kiln.metric.Metric;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The {@code fit} and {@code evaluate} loops: batches from a {@link Loader}, one compiled program
 * per batch size (the last, partial batch gets its own), the learning rate and step counter fed
 * as scalars, metrics updated on the host. The dataset's arrays are matched to the model's inputs
 * and outputs by name once ({@link Feeds}), and each program's inputs are found by name once, so
 * after the first steps a training step allocates nothing but what callbacks do. On a device backend the
 * host's weights are made current ({@link Executable#syncVariables()}) at the end of each epoch, not per step.
 * Where the backend offers an {@link InputFeed} ({@link Executable#prefetch}: the CUDA backend's pinned,
 * prefetched copies) the full batches of each epoch go through it instead of setInput; the short last batch, and
 * every batch on the CPU, is fed with setInput. Either way the same batches reach the same programs in the same order.
 *
 * <p>{@code fit} reads as Keras's: for each epoch, {@link #trainEpoch} runs {@link #trainStep} per batch and
 * the callbacks after it; a callback that calls {@link TrainingState#stopTraining()} in {@code onBatchEnd}
 * ends training after that batch (Keras's {@code model.stop_training}), one that calls it in
 * {@code onEpochEnd} (EarlyStopping) after that epoch.
 */
public final class Trainer {
    private final Trainable model;
    private final Dataset train, validation;
    private final Fit fit;
    private final int[] xCol, yCol;
    private final int batchSize;
    private final Batches plan;
    private final History history = new History();
    private final TrainingState state;
    private final List<Callback> callbacks;
    private final Outputs out;
    private final BatchLogs logs;
    private final Feeds.Slots full;
    private Feeds.Slots partial;
    private final float[] lr = new float[1], step = new float[1];
    private final int[] dataSlots;          // the full program's feature inputs, then its target inputs: an InputFeed's slots
    private final float[][] fedLabels, batchLabels; // each output's labels for the metrics: copied from a feed / the Loader's arrays
    private double lossSum;                 // the epoch's running loss over seen rows
    private long seen;

    /** Trains {@code model} on {@code train} as {@code fit} says; see {@link Fit}. */
    public static History fit(Trainable model, Dataset train, Fit fit) {
        Parts parts = parts(train, fit);
        return new Trainer(model, parts.train(), parts.validation(), fit).run();
    }

    /** The data fit trains on and validates on: {@code fit}'s validation data if given, else the last {@code validationSplit} of the rows (Keras's rule), else none. */
    public record Parts(Dataset train, Dataset validation) {}

    public static Parts parts(Dataset train, Fit fit) {
        Dataset validation = fit.validation();
        if (validation == null && fit.validationSplit() > 0) {
            int n = train.size(), held = (int) Math.round(n * fit.validationSplit());
            if (held < 1 || held >= n) throw new IllegalArgumentException("validation split " + fit.validationSplit() + " of " + n + " examples leaves an empty part");
            validation = train.subset(range(n - held, n));
            train = train.subset(range(0, n - held));
        }
        return new Parts(train, validation);
    }

    private Trainer(Trainable model, Dataset train, Dataset validation, Fit fit) {
        this.model = model;
        this.train = train;
        this.validation = validation;
        this.fit = fit;
        this.xCol = Feeds.inputColumns(model, train, "training data");
        this.yCol = Feeds.targetColumns(model, train, "training data");
        if (validation != null) { Feeds.inputColumns(model, validation, "validation data"); Feeds.targetColumns(model, validation, "validation data"); }
        this.batchSize = Math.min(fit.batchSize(), train.size());
        this.out = new Outputs(model, batchSize);
        this.logs = new BatchLogs(out.names);
        this.plan = Batches.of(train, batchSize).withSeed(fit.seed()).withShuffle(fit.shuffle()).withPrefetch(fit.prefetch()).withAugment(fit.augment());
        this.state = new TrainingState(model, history, fit.epochs(), plan.batchesPerEpoch(), train.size(), model.optimizer().learningRate());
        this.callbacks = new ArrayList<>(fit.callbacks());
        if (fit.verbose()) callbacks.add(0, new ProgressBar(System.out));
        Dashboard page = Dashboard.fromSystemProperty();
        if (page != null && !callbacks.contains(page)) callbacks.add(page);
        this.full = new Feeds.Slots(model, model.trainingProgram(batchSize), true);
        this.dataSlots = new int[full.x.length + full.y.length];
        System.arraycopy(full.x, 0, dataSlots, 0, full.x.length);
        System.arraycopy(full.y, 0, dataSlots, full.x.length, full.y.length);
        this.fedLabels = new float[yCol.length][];
        for (int k = 0; k < yCol.length; k++) fedLabels[k] = new float[batchSize * train.labelsPerExample(yCol[k])];
        this.batchLabels = new float[yCol.length][];
    }

    private History run() {
        for (Callback c : callbacks) c.onTrainBegin(state);
        try (Loader loader = plan.open()) {
            for (int epoch = fit.initialEpoch(); epoch < fit.epochs() && !state.stopRequested(); epoch++) {
                for (Callback c : callbacks) c.onEpochBegin(state, epoch);
                Map<String, Double> epochLogs = trainEpoch(loader, epoch);
                // a device backend's weights are current on the host once per epoch, before callbacks read or save them
                full.executable.syncVariables();
                if (validation != null) {
                    for (Map.Entry<String, Double> v : evaluate(model, validation, fit.batchSize()).entrySet()) epochLogs.put("val_" + v.getKey(), v.getValue());
                }
                if (fit.schedule() != null) epochLogs.put("lr", fit.schedule().at(model.iterations(), state.learningRate()));
                history.append(epochLogs);
                for (Callback c : callbacks) c.onEpochEnd(state, epoch, epochLogs);
            }
        }
        for (Callback c : callbacks) c.onTrainEnd(state);
        return history;
    }

    /**
     * One pass over the data (or up to the batch after which a callback asked to stop); returns the epoch's loss and
     * metrics. The full batches go through the backend's {@link InputFeed} where it has one, the rest through setInput.
     */
    private Map<String, Double> trainEpoch(Loader loader, int epoch) {
        out.reset();
        logs.start(System.nanoTime());
        lossSum = 0;
        seen = 0;
        loader.startEpoch(epoch);
        int index = 0;
        boolean stopped = false;
        Batch rest = null;
        LoaderSource source = new LoaderSource(loader, batchSize, xCol, yCol);
        try (InputFeed feed = full.executable.prefetch(dataSlots, source)) {
            if (feed != null) {
                while (!stopped && feed.next()) {
                    for (int k = 0; k < yCol.length; k++) {
                        MemorySegment pinned = feed.current(xCol.length + k);
                        MemorySegment.copy(pinned, JAVA_FLOAT, 0, fedLabels[k], 0, fedLabels[k].length);
                    }
                    stopped = afterStep(trainStep(full, epoch, index), fedLabels, batchSize, index++);
                }
                rest = source.remainder();
            }
        }
        Batch b;
        while (!stopped && (b = rest != null ? rest : loader.next()) != null) {
            rest = null;
            Feeds.Slots f = slotsFor(b.size());
            feed(train, f, b, xCol, yCol, b.size());
            for (int k = 0; k < yCol.length; k++) batchLabels[k] = b.labels(yCol[k]);
            stopped = afterStep(trainStep(f, epoch, index), batchLabels, b.size(), index++);
        }
        Map<String, Double> epochLogs = new LinkedHashMap<>();
        epochLogs.put("loss", lossSum / seen);
        out.results(epochLogs);
        return epochLogs;
    }

    /** The program for a batch of {@code rows}: the full one, or (the last, short batch) its own. */
    private Feeds.Slots slotsFor(int rows) {
        if (rows == batchSize) return full;
        if (partial == null || partial.batch() != rows) partial = new Feeds.Slots(model, model.trainingProgram(rows), true);
        return partial;
    }

    /** Reads the step's loss and metrics into the logs and runs the callbacks; true when one asked to stop. */
    private boolean afterStep(Feeds.Slots f, float[][] labels, int rows, int index) {
        float loss = f.executable.outputScalar(0);
        logs.setBatchLoss(loss);
        // a non-finite loss gets here only from a loss-scaled step, which the device skipped (nothing updated): left
        // out of the epoch's loss and metrics, as it is out of training
        if (Float.isFinite(loss)) {
            lossSum += (double) loss * rows;
            seen += rows;
            logs.set(lossSum / seen, seen, -1, 0);
            out.update(f.executable, labels, rows, logs, lossSum / seen, seen);
        }
        for (Callback c : callbacks) c.onBatchEnd(state, index, logs);
        return state.stopRequested();
    }

    /** One optimizer step of program {@code f}, its data inputs already fed: feeds the learning rate and the step counter, runs it, checks the loss. */
    private Feeds.Slots trainStep(Feeds.Slots f, int epoch, int index) {
        Executable e = f.executable;
        double rate = fit.schedule() == null ? state.learningRate() : fit.schedule().at(model.iterations(), state.learningRate());
        lr[0] = (float) rate;
        e.setInput(f.lr, lr);
        model.setIterations(model.iterations() + 1);
        step[0] = model.iterations(); // exact up to 2^24 steps
        e.setInput(f.step, step);
        e.run();
        float loss = e.outputScalar(0);
        if (!Float.isFinite(loss) && !model.scalesLoss()) {
            throw new ArithmeticException("the loss became " + loss + " in epoch " + (epoch + 1) + ", batch " + (index + 1)
                    + " (learning rate " + rate + "); lower the learning rate, check the data for extreme values, or run with model.checkNumerics(true) to find the op");
        }
        return f;
    }

    /** Loss and metrics of the model on {@code data}, in inference mode. */
    public static Map<String, Double> evaluate(Trainable model, Dataset data, int batchSize) {
        int[] xCol = Feeds.inputColumns(model, data, "evaluation data"), yCol = Feeds.targetColumns(model, data, "evaluation data");
        int bs = Math.min(batchSize, data.size());
        Outputs out = new Outputs(model, bs);
        BatchLogs logs = new BatchLogs(out.names);
        float[][] labels = new float[yCol.length][];
        double lossSum = 0;
        long seen = 0;
        Feeds.Slots full = new Feeds.Slots(model, model.evaluationProgram(bs), false);
        try (Loader loader = Batches.of(data, bs).withShuffle(false).open()) {
            loader.startEpoch(0);
            Batch b;
            while ((b = loader.next()) != null) {
                int rows = b.size();
                // only the last batch can be short
                Feeds.Slots f = rows == bs ? full : new Feeds.Slots(model, model.evaluationProgram(rows), false);
                feed(data, f, b, xCol, yCol, rows);
                f.executable.run();
                lossSum += (double) f.executable.outputScalar(0) * rows;
                seen += rows;
                for (int k = 0; k < yCol.length; k++) labels[k] = b.labels(yCol[k]);
                out.update(f.executable, labels, rows, logs, lossSum / seen, seen);
            }
        }
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("loss", lossSum / seen);
        out.results(result);
        return result;
    }

    /** Copies the batch's arrays into the program's inputs, by name: model input i from dataset input xCol[i], output k's targets from target yCol[k]. */
    private static void feed(Dataset data, Feeds.Slots f, Batch b, int[] xCol, int[] yCol, int rows) {
        Executable e = f.executable;
        for (int i = 0; i < xCol.length; i++) e.setInput(f.x[i], b.features(xCol[i]), 0, rows * data.featuresPerExample(xCol[i]));
        for (int k = 0; k < yCol.length; k++) e.setInput(f.y[k], b.labels(yCol[k]), 0, rows * data.labelsPerExample(yCol[k]));
    }

    /**
     * What a loop reads back after each step: each output's predictions for its metrics, and with several outputs
     * each output's loss. Log names as Keras's: "accuracy" for one output; "out1_loss", "out1_accuracy" for several.
     */
    private static final class Outputs {
        final List<String> names = new ArrayList<>();
        private final int count;
        private final float[][] pred;
        private final int[] predPer, labelPer;
        private final Metric[][] metrics;  // [output][metric]
        private final double[] lossSums;   // per output, several outputs only
        private long seen;

        Outputs(Trainable model, int batch) {
            this.count = model.outputNames().size();
            this.pred = new float[count][];
            this.predPer = new int[count];
            this.labelPer = new int[count];
            this.metrics = new Metric[count][];
            this.lossSums = new double[count > 1 ? count : 0];
            if (count > 1) for (int k = 0; k < count; k++) names.add(model.outputName(k) + "_loss");
            for (int k = 0; k < count; k++) {
                predPer[k] = model.outputShape(k).size();
                labelPer[k] = model.targetShape(k).size();
                pred[k] = new float[batch * predPer[k]];
                metrics[k] = new Metric[model.metrics().size()];
                for (int j = 0; j < metrics[k].length; j++) {
                    metrics[k][j] = model.metrics().get(j).copy();
                    names.add(count == 1 ? metrics[k][j].name() : model.outputName(k) + "_" + metrics[k][j].name());
                }
            }
        }

        void reset() {
            seen = 0;
            java.util.Arrays.fill(lossSums, 0);
            for (Metric[] ms : metrics) for (Metric m : ms) m.reset();
        }

        /** Reads the step's outputs [loss, predictions..., losses...] and updates the running figures in {@code logs}; labels[k]: output k's targets. */
        void update(Executable e, float[][] labels, int rows, BatchLogs logs, double meanLoss, long seen) {
            int log = 0;
            this.seen = seen;
            for (int k = 0; k < lossSums.length; k++) {
                lossSums[k] += (double) e.outputScalar(1 + count + k) * rows;
                logs.set(meanLoss, seen, log++, lossSums[k] / seen);
            }
            for (int k = 0; k < count; k++) {
                if (metrics[k].length == 0) continue;
                e.readOutput(1 + k, pred[k]);
                for (Metric m : metrics[k]) {
                    m.update(pred[k], labels[k], rows, predPer[k], labelPer[k]);
                    logs.set(meanLoss, seen, log++, m.result());
                }
            }
        }

        /** Adds the epoch's figures to {@code into}, in {@link #names} order. */
        void results(Map<String, Double> into) {
            int log = 0;
            for (double sum : lossSums) into.put(names.get(log++), sum / seen);
            for (Metric[] ms : metrics) for (Metric m : ms) into.put(names.get(log++), m.result());
        }
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) r[i] = from + i;
        return r;
    }
}
