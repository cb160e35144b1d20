package dev.kiln.cpu;

import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

import static dev.kiln.cpu.Check.uniform;
import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CPU backend owns its worker pool: its kernels run on that pool, and the pool's size never changes the bits. */
class CpuBackendPoolTest {
    @Test
    void theKernelsOfABackendRunOnTheBackendsOwnPool() {
        WorkerPool pool = new WorkerPool(3, "own-pool");
        CpuBackend backend = new CpuBackend(KernelChoice.BEST, pool);
        assertEquals(pool, backend.pool());
        assertTrue(backend.availability().checks().stream().anyMatch(c -> c.startsWith("threads: 3 ")), backend.availability().checks().toString());
        Random r = new Random(5);
        Node a = input("a", Shape.of(192, 256)), b = input("b", Shape.of(256, 320));
        float[] av = uniform(r, 192 * 256, -1, 1), bv = uniform(r, 256 * 320, -1, 1), out = new float[192 * 320];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        // the pool's workers wake only for the pool's own jobs: CPU time on them means the GEMM was split over this pool
        for (int i = 0; i < 20; i++) backend.evaluate(matmul(a, b), new float[][] {av, bv}, out);
        long workerNanos = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("own-pool-")) workerNanos += mx.getThreadCpuTime(t.threadId());
        }
        assertTrue(workerNanos > 0, "no CPU time on the backend's own pool's workers");
    }

    @Test
    void programsGiveTheSameBitsOnBackendsOfOneAndThreeThreads() {
        CpuBackend one = new CpuBackend(KernelChoice.BEST, new WorkerPool(1)), three = new CpuBackend(KernelChoice.BEST, new WorkerPool(3));
        Random r = new Random(6);
        Node a = input("a", Shape.of(150, 530)), b = input("b", Shape.of(530, 210)), bt = input("bt", Shape.of(210, 530));
        Node x = input("x", Shape.of(4, 20, 20, 24)), w = input("w", Shape.of(3, 3, 24, 40));
        float[] av = uniform(r, 150 * 530, -1, 1), bv = uniform(r, 530 * 210, -1, 1);
        float[] xv = uniform(r, 4 * 20 * 20 * 24, -1, 1), wv = uniform(r, 3 * 3 * 24 * 40, -1, 1);
        Node[] nodes = {matmul(a, b), matmul(a, bt, false, true), conv2d(x, w, Conv2d.of(1, Padding.SAME)), relu(add(x, x))};
        // bv read as Bᵀ [210, 530]: the dX = dY·Wᵀ form
        float[][][] ins = {{av, bv}, {av, bv}, {xv, wv}, {xv}};
        for (int i = 0; i < nodes.length; i++) {
            float[] y1 = new float[nodes[i].shape().size()], y3 = new float[y1.length];
            one.evaluate(nodes[i], ins[i], y1);
            three.evaluate(nodes[i], ins[i], y3);
            assertArrayEquals(y1, y3, 0f, nodes[i].describe());
        }
    }
}
