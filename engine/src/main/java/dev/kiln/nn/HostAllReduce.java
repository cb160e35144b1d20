package dev.kiln.nn;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The average of every rank's gradients, taken on the host by the ranks' own threads: what NCCL's all-reduce with
 * ncclAvg does on GPUs, for backends without a collective library (the CPU; tests). Each rank hands in its
 * arrays; once all have, each rank sums them in rank order 0, 1, ..., n-1 and divides by n, so every rank gets the
 * same bits whatever the threads' timing; a second barrier keeps the inputs untouched until every rank has read them.
 *
 * <pre>{@code
 * HostAllReduce reduce = new HostAllReduce(2);
 * // on rank r's thread, each step:
 * reduce.average(r, gradients, averaged);
 * }</pre>
 */
public final class HostAllReduce {
    private final int ranks;
    private final float[][][] handedIn;
    private final Object lock = new Object();
    private int arrived;          // ranks waiting at the barrier of this generation
    private long generation;      // barriers passed
    private boolean broken;       // a rank failed: every wait fails from now on
    private final AtomicLong calls = new AtomicLong();

    public HostAllReduce(int ranks) {
        if (ranks < 1) throw new IllegalArgumentException("an all-reduce needs at least one rank, got " + ranks);
        this.ranks = ranks;
        this.handedIn = new float[ranks][][];
    }

    public int ranks() { return ranks; }

    /** How many times a rank has called {@link #average} (all ranks together). */
    public long calls() { return calls.get(); }

    /**
     * Rank {@code rank}'s part: {@code out[i]} becomes the mean over the ranks of their {@code in[i]} (every rank
     * passes arrays of the same sizes). Blocks until every rank has called it; {@code in} may be reused on return.
     */
    public void average(int rank, float[][] in, float[][] out) {
        calls.incrementAndGet();
        handedIn[rank] = in;
        await(rank);
        float n = ranks;
        for (int i = 0; i < out.length; i++) {
            float[] o = out[i];
            for (int j = 0; j < o.length; j++) {
                float s = 0;
                for (int r = 0; r < ranks; r++) s += handedIn[r][i][j];
                o[j] = s / n;
            }
        }
        await(rank);
    }

    /** A rank failed: ranks waiting in {@link #average}, and any that call it later, fail instead of waiting for it, until {@link #reset}. */
    public void abort() {
        synchronized (lock) {
            broken = true;
            lock.notifyAll();
        }
    }

    /** Mends the barrier after {@link #abort} for a new round of steps; call it only while no rank is in {@link #average} (between fits). */
    public void reset() {
        synchronized (lock) {
            broken = false;
            arrived = 0;
            generation++;
            Arrays.fill(handedIn, null);
        }
    }

    /** Waits until every rank has arrived (a barrier that stays broken once {@link #abort} is called, whenever a rank arrives). */
    private void await(int rank) {
        synchronized (lock) {
            long mine = generation;
            if (!broken && ++arrived == ranks) {
                arrived = 0;
                generation++;
                lock.notifyAll();
                return;
            }
            while (!broken && generation == mine) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("rank " + rank + " was interrupted while waiting for the other ranks' gradients", e);
                }
            }
            if (generation == mine) {
                throw new IllegalStateException("rank " + rank + " stopped waiting for the other ranks' gradients: another rank failed (its error is reported first)");
            }
        }
    }
}
