package dev.kiln.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the {@link Dashboard} keeps of one {@code fit}: every batch's loss and running metrics, every epoch's logs,
 * and the progress (samples/s, ETA). Written by the training thread, read by the dashboard's HTTP thread: every
 * method is synchronized, and {@link #toMap} copies.
 */
final class RunLog {
    private final String name, summary;
    private final int epochs, batchesPerEpoch, examples;
    private final long startNanos;
    private List<String> metricNames = List.of();
    /** Per batch: the batch's own loss, the epoch's running mean loss, then each metric's running value. */
    private double[][] perBatch = new double[2][256];
    private int steps;
    private final List<Integer> epochNumbers = new ArrayList<>();
    private final Map<String, List<Double>> perEpoch = new LinkedHashMap<>();
    private int epoch, batch;
    private double samplesPerSecond = Double.NaN, etaSeconds = Double.NaN;
    private long batchesDone;
    private boolean done;

    RunLog(String name, String summary, int epochs, int batchesPerEpoch, int examples, long startNanos) {
        this.name = name;
        this.summary = summary;
        this.epochs = epochs;
        this.batchesPerEpoch = batchesPerEpoch;
        this.examples = examples;
        this.startNanos = startNanos;
    }

    synchronized void epochBegin(int e) { epoch = e; batch = 0; }

    synchronized void batch(int index, BatchLogs logs, long now) {
        if (metricNames.size() != logs.metricNames().size()) {
            metricNames = logs.metricNames();
            perBatch = Arrays.copyOf(perBatch, 2 + metricNames.size());
            for (int i = 0; i < perBatch.length; i++) if (perBatch[i] == null) perBatch[i] = filled(perBatch[0].length, steps);
        }
        if (steps == perBatch[0].length) for (int i = 0; i < perBatch.length; i++) perBatch[i] = Arrays.copyOf(perBatch[i], steps * 2);
        perBatch[0][steps] = logs.batchLoss();
        perBatch[1][steps] = logs.loss();
        for (int m = 0; m < metricNames.size(); m++) perBatch[2 + m][steps] = logs.metric(m);
        steps++;
        batch = index + 1;
        batchesDone++;
        double epochSeconds = (now - logs.startNanos()) / 1e9;
        samplesPerSecond = logs.seen() / Math.max(epochSeconds, 1e-9);
        long left = (long) (epochs - epoch - 1) * batchesPerEpoch + Math.max(0, batchesPerEpoch - batch);
        etaSeconds = (now - startNanos) / 1e9 / batchesDone * left;
    }

    /** A column of NaN for a metric that appears after {@code count} batches were logged without it. */
    private static double[] filled(int capacity, int count) {
        double[] c = new double[capacity];
        Arrays.fill(c, 0, count, Double.NaN);
        return c;
    }

    synchronized void epochEnd(int e, Map<String, Double> logs) {
        int before = epochNumbers.size();
        epochNumbers.add(e + 1);
        for (Map.Entry<String, Double> l : logs.entrySet()) {
            List<Double> c = perEpoch.computeIfAbsent(l.getKey(), k -> new ArrayList<>());
            while (c.size() < before) c.add(Double.NaN);
            c.add(l.getValue());
        }
        for (List<Double> c : perEpoch.values()) while (c.size() < epochNumbers.size()) c.add(Double.NaN);
    }

    synchronized void end() {
        done = true;
        etaSeconds = 0;
    }

    synchronized int steps() { return steps; }

    /** A copy as JSON-ready maps and lists (NaN as null). */
    synchronized Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("summary", summary);
        m.put("epochs", epochs);
        m.put("batchesPerEpoch", batchesPerEpoch);
        m.put("examples", examples);
        m.put("epoch", epoch + 1);
        m.put("batch", batch);
        m.put("done", done);
        m.put("samplesPerSecond", number(samplesPerSecond));
        m.put("etaSeconds", number(etaSeconds));
        Map<String, Object> batches = new LinkedHashMap<>();
        List<Object> step = new ArrayList<>(steps);
        for (int i = 1; i <= steps; i++) step.add(i);
        batches.put("step", step);
        batches.put("batch_loss", column(perBatch[0], steps));
        batches.put("loss", column(perBatch[1], steps));
        for (int i = 0; i < metricNames.size(); i++) batches.put(metricNames.get(i), column(perBatch[2 + i], steps));
        m.put("batches", batches);
        Map<String, Object> ep = new LinkedHashMap<>();
        ep.put("epoch", List.copyOf(epochNumbers));
        for (Map.Entry<String, List<Double>> e : perEpoch.entrySet()) {
            List<Object> c = new ArrayList<>(e.getValue().size());
            for (double v : e.getValue()) c.add(number(v));
            ep.put(e.getKey(), c);
        }
        m.put("epochs_logged", ep);
        return m;
    }

    private static List<Object> column(double[] values, int n) {
        List<Object> c = new ArrayList<>(n);
        for (int i = 0; i < n; i++) c.add(number(values[i]));
        return c;
    }

    /** A JSON number at float precision (shorter text, no less than the engine computes in), or null for NaN and infinities. */
    private static Object number(double v) {
        if (!Double.isFinite(v)) return null;
        float f = (float) v;
        return Float.isFinite(f) ? Double.valueOf(Float.toString(f)) : v;
    }
}
