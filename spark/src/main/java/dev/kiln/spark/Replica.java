package dev.kiln.spark;

import dev.kiln.backend.Executable;
import dev.kiln.graph.Variable;
import dev.kiln.nn.Model;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.BarrierTaskInfo;
import org.apache.spark.sql.Row;
import scala.runtime.AbstractFunction1;

import java.io.IOException;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * One barrier task of {@link KilnSpark#fit}: a replica of the model training on its partition. Peers meet through
 * {@link BarrierTaskContext#allGather} (rank|address|rows|epoch to resume), connect a {@link Ring}, then every step runs
 * the model's gradient program on the replica's batch, averages gradients and loss across the ring and applies the
 * optimizer ({@link Model#gradientProgram}, {@link Model#applyGradientsProgram}): all replicas stay identical. Rank 0
 * writes the per-epoch checkpoints and returns the result; the others return nothing.
 */
final class Replica extends AbstractFunction1<scala.collection.Iterator<Row>, scala.collection.Iterator<byte[]>> implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final System.Logger LOG = System.getLogger("dev.kiln.spark.KilnSpark");

    private final byte[] initialModel;
    private final DataParallel cfg;

    Replica(byte[] initialModel, DataParallel cfg) {
        this.initialModel = initialModel;
        this.cfg = cfg;
    }

    @Override public scala.collection.Iterator<byte[]> apply(scala.collection.Iterator<Row> rowsIn) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId(), attempt = ctx.stageAttemptNumber();
        BarrierTaskInfo[] infos = ctx.getTaskInfos();
        int n = infos.length;
        Checkpoints ckpt = cfg.checkpoints() == null ? null : new Checkpoints(Path.of(cfg.checkpoints()));
        String where = "rank " + rank + " (partition " + ctx.partitionId() + ", stage attempt " + attempt + ")";
        long[] at = {0, 0}; // epoch, step of the failure
        Ring ring = null;
        try {
            float[][] data = read(CollectionConvertersHolder.asJava(rowsIn), rank);
            float[] x = data[0], y = data[1];
            int rows = y.length;
            String host = infos[rank].address().contains(":") ? infos[rank].address().substring(0, infos[rank].address().lastIndexOf(':')) : "127.0.0.1";
            try (ServerSocket server = new ServerSocket(0, n + 4, InetAddress.getByName(host))) {
                String me = host + ":" + server.getLocalPort();
                where = "rank " + rank + " (" + me + ", stage attempt " + attempt + ")";
                int resume = rank == 0 && ckpt != null ? ckpt.latest() : 0;
                String[] all = ctx.allGather(rank + "|" + me + "|" + rows + "|" + resume);
                String[] addresses = new String[n];
                int minRows = Integer.MAX_VALUE;
                for (String s : all) {
                    String[] f = s.split("\\|");
                    int r = Integer.parseInt(f[0]);
                    addresses[r] = f[1];
                    minRows = Math.min(minRows, Integer.parseInt(f[2]));
                    if (r == 0) resume = Integer.parseInt(f[3]);
                }
                int steps = minRows / cfg.batchSize();
                if (cfg.stepsPerEpoch() > 0) steps = Math.min(steps, cfg.stepsPerEpoch());
                if (steps < 1) {
                    throw new KilnSparkException("rank " + rank + ": the smallest partition holds " + minRows + " rows, fewer than one batch of " + cfg.batchSize()
                            + "; give more rows, fewer tasks or a smaller batch size");
                }
                ring = new Ring(rank, List.of(addresses), server, cfg.timeoutMillis());
                return train(ctx, rank, attempt, ring, ckpt, resume, steps, x, y, at);
            }
        } catch (Exception e) {
            String line = "attempt " + attempt + ": task " + where + " failed at epoch " + (at[0] + 1) + ", step " + at[1] + ": " + Scoring.oneLine(e);
            LOG.log(System.Logger.Level.WARNING, "kiln-spark: " + line);
            if (ckpt != null) ckpt.event(line);
            if (e instanceof RuntimeException re) throw re;
            throw new KilnSparkException(line, e);
        } finally {
            if (ring != null) ring.close();
        }
    }

    private scala.collection.Iterator<byte[]> train(BarrierTaskContext ctx, int rank, int attempt, Ring ring, Checkpoints ckpt, int resume, int steps,
                                                    float[] x, float[] y, long[] at) throws IOException {
        List<String> events = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        Path tmp = Files.createTempFile("kiln-replica-", ".kiln");
        try {
            Model model;
            if (resume > 0) {
                model = Model.load(ckpt.model(resume));
                losses.addAll(ckpt.losses(resume));
                if (rank == 0) {
                    if (ckpt != null) events.addAll(ckpt.events());
                    String line = "attempt " + attempt + ": resumed from checkpoint " + ckpt.model(resume) + " (epoch " + resume + " of " + cfg.epochs()
                            + " done, step " + model.iterations() + ")";
                    LOG.log(System.Logger.Level.INFO, "kiln-spark: " + line);
                    ckpt.event(line);
                    events.add(line);
                }
            } else {
                Files.write(tmp, initialModel);
                model = Model.load(tmp);
                if (rank == 0 && ckpt != null) {
                    events.addAll(ckpt.events());
                    if (attempt > 0) {
                        String line = "attempt " + attempt + ": no checkpoint in " + cfg.checkpoints() + " yet; started from the beginning";
                        LOG.log(System.Logger.Level.INFO, "kiln-spark: " + line);
                        ckpt.event(line);
                        events.add(line);
                    }
                }
            }
            cfg.compile().accept(model);
            int b = cfg.batchSize(), in = model.inputShape(0).size(), out = model.targetShape(0).size();
            Executable grad = model.gradientProgram(b), apply = model.applyGradientsProgram();
            List<Variable> weights = model.gradientWeights();
            int[] offsets = new int[weights.size() + 1];
            for (int i = 0; i < weights.size(); i++) offsets[i + 1] = offsets[i] + weights.get(i).shape().size();
            int total = offsets[weights.size()];
            int outputs = model.outputs().size(), firstGrad = 1 + outputs + (outputs > 1 ? outputs : 0); // after [loss, predictions..., per-output losses...]
            float[] buf = new float[total + 1]; // the gradients, then the loss
            int xSlot = grad.program().inputSlot(model.programInputName(0)), ySlot = grad.program().inputSlot(model.programTargetName(0));
            int gStep = grad.program().inputSlot("step"), aStep = apply.program().inputSlot("step"), aLr = apply.program().inputSlot("lr");
            int[] gradSlots = new int[weights.size()];
            for (int i = 0; i < gradSlots.length; i++) gradSlots[i] = apply.program().inputSlot("grad/" + i);
            float[] lr = {(float) model.optimizer().learningRate()}, step = new float[1];
            long t0 = System.nanoTime();
            int stepsRun = 0;
            for (int epoch = resume; epoch < cfg.epochs(); epoch++) {
                at[0] = epoch;
                double lossSum = 0;
                for (int s = 0; s < steps; s++) {
                    at[1] = s;
                    long global = (long) epoch * steps + s;
                    injectFault(ctx, rank, attempt, global);
                    grad.setInput(xSlot, x, s * b * in, b * in);
                    grad.setInput(ySlot, y, s * b * out, b * out);
                    model.setIterations(model.iterations() + 1);
                    step[0] = model.iterations();
                    grad.setInput(gStep, step);
                    grad.run();
                    for (int i = 0; i < weights.size(); i++) grad.readOutput(firstGrad + i, buf, offsets[i]);
                    buf[total] = grad.outputScalar(0);
                    ring.allReduceMean(buf, total + 1, cfg.bucketFloats());
                    for (int i = 0; i < weights.size(); i++) apply.setInput(gradSlots[i], buf, offsets[i], offsets[i + 1] - offsets[i]);
                    apply.setInput(aLr, lr);
                    apply.setInput(aStep, step);
                    apply.run();
                    lossSum += buf[total];
                    stepsRun++;
                }
                losses.add(lossSum / steps);
                if (rank == 0 && ckpt != null) {
                    model.save(tmp);
                    ckpt.write(epoch + 1, tmp, losses);
                }
            }
            long trainNanos = System.nanoTime() - t0;
            if (rank != 0) return scala.collection.Iterator.empty();
            model.save(tmp);
            Trained.Result r = new Trained.Result(Files.readAllBytes(tmp), losses, events, stepsRun, (long) stepsRun * b * ring.size(), trainNanos, ring.nanos());
            return CollectionConvertersHolder.asScala(List.of(r.toBytes()).iterator());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void injectFault(BarrierTaskContext ctx, int rank, int attempt, long global) {
        DataParallel.Fault f = cfg.fault();
        if (f == null || attempt != 0 || f.rank() != rank || f.step() != global) return;
        if (f.hangMillis() <= 0) throw new KilnSparkException("injected fault (DataParallel.Fault) at global step " + global);
        long end = System.currentTimeMillis() + f.hangMillis();
        while (System.currentTimeMillis() < end && !ctx.isInterrupted()) {
            try { Thread.sleep(20); } catch (InterruptedException e) { Thread.currentThread().interrupt(); break; }
        }
        throw new KilnSparkException("injected hang (DataParallel.Fault) of " + f.hangMillis() + " ms at global step " + global + " ended");
    }

    /** The partition's rows as [features (rows × inputs), labels (rows)]. */
    private float[][] read(Iterator<Row> rows, int rank) {
        int nf = cfg.features().size();
        float[] x = new float[1024 * nf], y = new float[1024];
        int n = 0;
        while (rows.hasNext()) {
            Row r = rows.next();
            if (n == y.length) { y = Arrays.copyOf(y, n * 2); x = Arrays.copyOf(x, n * 2 * nf); }
            for (int j = 0; j < nf; j++) x[n * nf + j] = number(r.get(j), cfg.features().get(j), rank, n);
            y[n] = number(r.get(nf), cfg.label(), rank, n);
            n++;
        }
        return new float[][] {Arrays.copyOf(x, n * nf), Arrays.copyOf(y, n)};
    }

    private static float number(Object v, String column, int partition, long row) {
        if (v instanceof Number num) return num.floatValue();
        throw new KilnSparkException("column '" + column + "' holds " + (v == null ? "null" : "the non-numeric value '" + v + "'") + " in partition " + partition
                + ", row offset " + row + " (training data); cast or clean the column");
    }

    /** Scala/Java iterator conversions in one place. */
    static final class CollectionConvertersHolder {
        static <T> Iterator<T> asJava(scala.collection.Iterator<T> it) { return scala.jdk.javaapi.CollectionConverters.asJava(it); }
        static <T> scala.collection.Iterator<T> asScala(Iterator<T> it) { return scala.jdk.javaapi.CollectionConverters.asScala(it); }
    }
}
