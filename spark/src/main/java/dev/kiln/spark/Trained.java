package dev.kiln.spark;

import dev.kiln.nn.Model;
import dev.kiln.train.History;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@link KilnSpark#fit} returns: the trained model (rank 0's replica: weights, optimizer state, step counter),
 * its History ("loss" per epoch, the mean over every replica's batches), the events of the run (failures and
 * resumptions, one line each) and figures for the bench.
 */
public final class Trained {
    private final Model model;
    private final History history;
    private final Result result;

    /** Rank 0's answer, as it crosses from the executor to the driver. */
    record Result(byte[] model, List<Double> losses, List<String> events, int steps, long samples, long trainNanos, long allReduceNanos) implements Serializable {
        byte[] toBytes() {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try (ObjectOutputStream o = new ObjectOutputStream(b)) {
                o.writeObject(this);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return b.toByteArray();
        }

        static Result of(byte[] bytes) {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
                return (Result) in.readObject();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    Trained(Result r, DataParallel.Compile compile) {
        this.result = r;
        try {
            Path tmp = Files.createTempFile("kiln-trained-", ".kiln");
            try {
                Files.write(tmp, r.model());
                this.model = Model.load(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        compile.accept(model);
        this.history = new History();
        for (double l : r.losses()) history.append(Map.of("loss", l));
    }

    /** The trained model, compiled as the replicas were. */
    public Model model() { return model; }
    public History history() { return history; }
    /** Failures and resumptions of this run, one line each, in order (from the checkpoint folder's events.log). */
    public List<String> events() { return result.events(); }
    /** Optimizer steps run by the last (successful) stage attempt. */
    public int steps() { return result.steps(); }
    /** Training samples per second over all replicas, in the last stage attempt. */
    public double samplesPerSecond() { return result.samples() / (result.trainNanos() / 1e9); }
    /** Mean wall time of one step's all-reduce on rank 0, in milliseconds. */
    public double allReduceMillisPerStep() { return result.steps() == 0 ? 0 : result.allReduceNanos() / 1e6 / result.steps(); }
}
