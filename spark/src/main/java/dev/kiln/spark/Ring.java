package dev.kiln.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A ring all-reduce over TCP: rank r sends to rank r+1 and receives from rank r-1 (mod n). {@link #allReduceMean}
 * averages a float vector across all ranks, bucket by bucket; each bucket is split into n chunks and reduced by a
 * reduce-scatter (n-1 steps) then an all-gather (n-1 steps), so each rank sends 2(n-1)/n of the data whatever n is.
 *
 * <p>Deterministic: chunk c is always summed along the same path (starting at rank c+1, in ring order) and the sum is
 * then copied to every rank, so every replica gets the same bits, run after run. Sends run on a thread of their own
 * while the caller receives (a ring of blocking writers would deadlock once the socket buffers fill).
 *
 * <p>A peer that sends nothing for {@code timeoutMillis}, closes its connection or stops reading fails the call with
 * a {@link KilnSparkException} naming its rank and address.
 */
final class Ring implements AutoCloseable {
    private final int rank, n, timeoutMillis;
    private final List<String> addresses;
    private Socket toNext, fromPrev;
    private DataOutputStream out;
    private DataInputStream in;
    private final ExecutorService sender;
    private byte[] sendBytes = new byte[0], recvBytes = new byte[0];
    private float[] recv = new float[0];
    private long nanos;

    /** Connects rank {@code rank} of {@code addresses.size()} into the ring; {@code server} is this rank's own listening socket (at addresses[rank]). */
    Ring(int rank, List<String> addresses, ServerSocket server, int timeoutMillis) throws IOException {
        this.rank = rank;
        this.n = addresses.size();
        this.addresses = addresses;
        this.timeoutMillis = timeoutMillis;
        this.sender = n > 1 ? Executors.newSingleThreadExecutor(r -> { Thread t = new Thread(r, "kiln-ring-send-" + rank); t.setDaemon(true); return t; }) : null;
        if (n == 1) return;
        int next = (rank + 1) % n;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        // connect to the next rank (its server may not listen yet: retry until the deadline)
        while (true) {
            try {
                Socket s = new Socket();
                s.connect(address(next), timeoutMillis);
                s.setTcpNoDelay(true);
                new DataOutputStream(s.getOutputStream()).writeInt(rank);
                toNext = s;
                break;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) throw peer(next, "could not be reached (" + Scoring.oneLine(e) + ")", e);
                try { Thread.sleep(50); } catch (InterruptedException ie) { Thread.currentThread().interrupt(); throw new IOException(ie); }
            }
        }
        int prev = (rank + n - 1) % n;
        server.setSoTimeout(timeoutMillis);
        try {
            fromPrev = server.accept();
        } catch (SocketTimeoutException e) {
            throw peer(prev, "did not connect within " + timeoutMillis + " ms", e);
        }
        fromPrev.setSoTimeout(timeoutMillis);
        fromPrev.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(fromPrev.getInputStream(), 1 << 16));
        int who = in.readInt();
        if (who != prev) throw new KilnSparkException("ring: rank " + rank + " expected rank " + prev + " to connect, got rank " + who + "; the peers' addresses disagree");
        out = new DataOutputStream(new BufferedOutputStream(toNext.getOutputStream(), 1 << 16));
    }

    private InetSocketAddress address(int r) {
        String a = addresses.get(r);
        int colon = a.lastIndexOf(':');
        return new InetSocketAddress(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)));
    }

    private KilnSparkException peer(int r, String what, Throwable cause) {
        return new KilnSparkException("ring all-reduce: rank " + rank + " (" + addresses.get(rank) + "): peer rank " + r + " (" + addresses.get(r) + ") " + what
                + "; it stopped answering (its task hung, failed or its executor died), so this barrier stage fails", cause);
    }

    int size() { return n; }

    /** Nanoseconds spent in {@link #allReduceMean} so far. */
    long nanos() { return nanos; }

    /** Replaces {@code data[0, length)} by its mean over all ranks, {@code bucket} floats at a time. */
    void allReduceMean(float[] data, int length, int bucket) {
        if (n == 1) return;
        long t0 = System.nanoTime();
        for (int from = 0; from < length; from += bucket) reduceBucket(data, from, Math.min(bucket, length - from));
        float scale = 1f / n;
        // n = 2, 4, 8...: a power of two, so the scaling is exact; otherwise the one rounding is the same on every rank
        for (int i = 0; i < length; i++) data[i] *= scale;
        nanos += System.nanoTime() - t0;
    }

    private int chunkStart(int from, int len, int c) { return from + (int) ((long) len * c / n); }

    private void reduceBucket(float[] d, int from, int len) {
        // reduce-scatter: after step s, rank r holds the sum over s+2 ranks of chunk (r - s - 1)
        for (int s = 0; s < n - 1; s++) {
            int send = Math.floorMod(rank - s, n), get = Math.floorMod(rank - s - 1, n);
            exchange(d, from, len, send, get, true);
        }
        // all-gather: the finished chunk (rank + 1) travels round the ring
        for (int s = 0; s < n - 1; s++) {
            int send = Math.floorMod(rank + 1 - s, n), get = Math.floorMod(rank - s, n);
            exchange(d, from, len, send, get, false);
        }
    }

    private void exchange(float[] d, int from, int len, int sendChunk, int getChunk, boolean add) {
        int s0 = chunkStart(from, len, sendChunk), s1 = chunkStart(from, len, sendChunk + 1);
        int g0 = chunkStart(from, len, getChunk), g1 = chunkStart(from, len, getChunk + 1);
        int sendCount = s1 - s0, getCount = g1 - g0;
        if (sendBytes.length < sendCount * 4) sendBytes = new byte[sendCount * 4];
        ByteBuffer.wrap(sendBytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(d, s0, sendCount);
        Future<?> sent = sender.submit(() -> { out.write(sendBytes, 0, sendCount * 4); out.flush(); return null; });
        int prev = Math.floorMod(rank - 1, n), next = (rank + 1) % n;
        if (recvBytes.length < getCount * 4) { recvBytes = new byte[getCount * 4]; recv = new float[getCount]; }
        try {
            in.readFully(recvBytes, 0, getCount * 4);
        } catch (SocketTimeoutException e) {
            sent.cancel(true);
            throw peer(prev, "sent nothing for " + timeoutMillis + " ms", e);
        } catch (EOFException e) {
            throw peer(prev, "closed its connection", e);
        } catch (IOException e) {
            throw peer(prev, "broke the connection (" + Scoring.oneLine(e) + ")", e);
        }
        try {
            sent.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            sent.cancel(true);
            throw peer(next, "took nothing for " + timeoutMillis + " ms", e);
        } catch (Exception e) {
            throw peer(next, "broke the connection (" + Scoring.oneLine(e.getCause() != null ? e.getCause() : e) + ")", e);
        }
        ByteBuffer.wrap(recvBytes, 0, getCount * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(recv, 0, getCount);
        if (add) for (int i = 0; i < getCount; i++) d[g0 + i] = recv[i] + d[g0 + i];
        else System.arraycopy(recv, 0, d, g0, getCount);
    }

    @Override public void close() {
        if (sender != null) sender.shutdownNow();
        for (Socket s : new Socket[] {toNext, fromPrev}) {
            if (s != null) try { s.close(); } catch (IOException ignored) { /* closing */ }
        }
    }
}
