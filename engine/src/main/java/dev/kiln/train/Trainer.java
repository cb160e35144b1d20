package dev.kiln.train;

import dev.kiln.backend.Executable;
import dev.kiln.data.Batch;
import dev.kiln.data.Batches;
import dev.kiln.data.Dataset;
import dev.kiln.data.Loader;
import dev.kiln.metric.Metric;
import dev.kiln.nn.Model;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code fit} and {@code evaluate} loops: batches from a {@link Loader}, one compiled program
 * per batch size (the last, partial batch gets its own), the learning rate and step counter fed
 * as scalars, metrics updated on the host. After the first steps a training step allocates
 * nothing but what callbacks do.
 */
public final class Trainer {
    private Trainer() {}

    public static History fit(Model model, Dataset train, Fit fit) {
        Dataset validation = fit.validation();
        if (validation == null && fit.validationSplit() > 0) {
            int n = train.size(), held = (int) Math.round(n * fit.validationSplit());
            if (held < 1 || held >= n) throw new IllegalArgumentException("validation split " + fit.validationSplit() + " of " + n + " examples leaves an empty part");
            validation = train.subset(range(n - held, n));
            train = train.subset(range(0, n - held));
        }
        check(model, train, "training data");
        if (validation != null) check(model, validation, "validation data");

        History history = new History();
        List<Metric> metrics = new ArrayList<>();
        for (Metric m : model.metrics()) metrics.add(m.copy());
        List<String> names = new ArrayList<>();
        for (Metric m : metrics) names.add(m.name());
        BatchLogs logs = new BatchLogs(names);
        int bs = Math.min(fit.batchSize(), train.size());
        Batches plan = Batches.of(train, bs).withSeed(fit.seed()).withShuffle(fit.shuffle()).withPrefetch(fit.prefetch()).withAugment(fit.augment());
        TrainingState state = new TrainingState(model, history, fit.epochs(), plan.batchesPerEpoch(), train.size(), model.optimizer().learningRate());
        List<Callback> callbacks = new ArrayList<>(fit.callbacks());
        if (fit.verbose()) callbacks.add(0, new ProgressBar(System.out));

        int fx = train.featuresPerExample(), fy = train.labelsPerExample();
        int predPer = model.outputShape(0).size();
        Executable full = model.trainingProgram(bs), partial = null;
        float[] pred = new float[bs * predPer], lr = new float[1], step = new float[1];

        for (Callback c : callbacks) c.onTrainBegin(state);
        try (Loader loader = plan.open()) {
            for (int epoch = fit.initialEpoch(); epoch < fit.epochs() && !state.stopRequested(); epoch++) {
                for (Callback c : callbacks) c.onEpochBegin(state, epoch);
                for (Metric m : metrics) m.reset();
                logs.start(System.nanoTime());
                double lossSum = 0;
                long seen = 0;
                loader.startEpoch(epoch);
                Batch b;
                int index = 0;
                while ((b = loader.next()) != null) {
                    int rows = b.size();
                    Executable e = full;
                    if (rows != bs) {
                        if (partial == null || partial.program().inputs().get(0).shape().dim(0) != rows) partial = model.trainingProgram(rows);
                        e = partial;
                    }
                    e.setInput(0, b.features(), 0, rows * fx);
                    e.setInput(1, b.labels(), 0, rows * fy);
                    double rate = fit.schedule() == null ? state.learningRate() : fit.schedule().at(model.iterations(), state.learningRate());
                    lr[0] = (float) rate;
                    e.setInput(2, lr);
                    model.setIterations(model.iterations() + 1);
                    step[0] = model.iterations(); // exact up to 2^24 steps
                    e.setInput(3, step);
                    e.run();
                    float loss = e.outputScalar(0);
                    if (!Float.isFinite(loss)) {
                        throw new ArithmeticException("the loss became " + loss + " in epoch " + (epoch + 1) + ", batch " + (index + 1)
                                + " (learning rate " + rate + "); lower the learning rate, check the data for extreme values, or run with model.checkNumerics(true) to find the op");
                    }
                    e.readOutput(1, pred);
                    lossSum += (double) loss * rows;
                    seen += rows;
                    logs.setBatchLoss(loss);
                    logs.set(lossSum / seen, seen, -1, 0);
                    for (int i = 0; i < metrics.size(); i++) {
                        metrics.get(i).update(pred, b.labels(), rows, predPer, fy);
                        logs.set(lossSum / seen, seen, i, metrics.get(i).result());
                    }
                    for (Callback c : callbacks) c.onBatchEnd(state, index, logs);
                    index++;
                }
                Map<String, Double> epochLogs = new LinkedHashMap<>();
                epochLogs.put("loss", lossSum / seen);
                for (Metric m : metrics) epochLogs.put(m.name(), m.result());
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

    /** Loss and metrics of the model on {@code data}, in inference mode. */
    public static Map<String, Double> evaluate(Model model, Dataset data, int batchSize) {
        check(model, data, "evaluation data");
        List<Metric> metrics = new ArrayList<>();
        for (Metric m : model.metrics()) metrics.add(m.copy());
        int bs = Math.min(batchSize, data.size());
        int fx = data.featuresPerExample(), fy = data.labelsPerExample(), predPer = model.outputShape(0).size();
        float[] pred = new float[bs * predPer];
        double lossSum = 0;
        long seen = 0;
        Executable full = model.evaluationProgram(bs);
        try (Loader loader = Batches.of(data, bs).withShuffle(false).open()) {
            loader.startEpoch(0);
            Batch b;
            while ((b = loader.next()) != null) {
                int rows = b.size();
                Executable e = rows == bs ? full : model.evaluationProgram(rows); // only the last batch can be short
                e.setInput(0, b.features(), 0, rows * fx);
                e.setInput(1, b.labels(), 0, rows * fy);
                e.run();
                lossSum += (double) e.outputScalar(0) * rows;
                seen += rows;
                e.readOutput(1, pred);
                for (Metric m : metrics) m.update(pred, b.labels(), rows, predPer, fy);
            }
        }
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("loss", lossSum / seen);
        for (Metric m : metrics) result.put(m.name(), m.result());
        return result;
    }

    /** The data must fit the model: example shapes, label sizes and label values, each error naming both sides. */
    static void check(Model model, Dataset data, String what) {
        if (model.inputs().size() != 1) throw new UnsupportedOperationException("fit/evaluate on a Dataset needs a model with one input; this one has " + model.inputs().size());
        Shape expected = model.inputShape(0), given = data.exampleShape();
        if (!expected.equals(given) && !(expected.size() == given.size() && given.rank() <= 1 && expected.rank() <= 1)) {
            throw new ShapeException("the " + what + " has examples of shape " + given + " but model '" + model.name() + "' expects " + expected
                    + " at its input '" + model.inputs().get(0).inputName() + "' (first layer: " + firstLayer(model) + "); reshape the data or change Input.shape(...)");
        }
        Shape target = model.targetShape();
        if (data.labelsPerExample() != target.size()) {
            throw new ShapeException("the " + what + " has " + data.labelsPerExample() + " label value(s) per example but the loss " + model.loss().name()
                    + " on output " + model.outputShape(0) + " expects " + target.size() + " (label shape " + target + ")");
        }
        model.loss().validateTargets(data.labels(), data.size(), model.outputShape(0));
    }

    private static String firstLayer(Model model) {
        return model.layers().isEmpty() ? "none" : model.layers().get(0).name() + " (" + model.layers().get(0).type() + ")";
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) r[i] = from + i;
        return r;
    }
}
