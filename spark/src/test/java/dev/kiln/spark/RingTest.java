package dev.kiln.spark;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** The TCP ring all-reduce on loopback, ranks as threads. */
class RingTest {
    /** Runs an all-reduce of each rank's vector (rank r: data[r]) with {@code bucket}; returns each rank's result. */
    static float[][] allReduce(float[][] data, int bucket) throws Exception {
        int n = data.length;
        List<ServerSocket> servers = new ArrayList<>();
        List<String> addresses = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            ServerSocket s = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
            servers.add(s);
            addresses.add("127.0.0.1:" + s.getLocalPort());
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<float[]>> out = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                out.add(pool.submit(() -> {
                    float[] d = data[rank].clone();
                    try (Ring ring = new Ring(rank, addresses, servers.get(rank), 10_000)) {
                        ring.allReduceMean(d, d.length, bucket);
                    }
                    return d;
                }));
            }
            float[][] res = new float[n][];
            for (int r = 0; r < n; r++) res[r] = out.get(r).get();
            return res;
        } finally {
            pool.shutdownNow();
            for (ServerSocket s : servers) s.close();
        }
    }

    @Test void averagesAcrossRanksIdenticallyOnEveryRank() throws Exception {
        for (int n : new int[] {2, 3, 4}) {
            for (int bucket : new int[] {7, 1000, 1 << 18}) {
                SplittableRandom rnd = new SplittableRandom(n);
                int len = bucket == 1 << 18 ? 600_001 : 1003;
                float[][] data = new float[n][len];
                for (float[] d : data) for (int i = 0; i < len; i++) d[i] = (float) rnd.nextGaussian();
                float[][] res = allReduce(data, bucket);
                for (int i = 0; i < len; i++) {
                    double mean = 0;
                    for (float[] d : data) mean += d[i];
                    mean /= n;
                    assertEquals(mean, res[0][i], 1e-5, "n=" + n + " bucket=" + bucket + " element " + i);
                    for (int r = 1; r < n; r++) assertEquals(Float.floatToIntBits(res[0][i]), Float.floatToIntBits(res[r][i]), "rank " + r + " differs at " + i);
                }
                // the same inputs give the same bits again
                float[][] again = allReduce(data, bucket);
                assertArrayEquals(res[0], again[0]);
            }
        }
    }
}
