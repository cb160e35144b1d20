package dev.kiln.cuda;

import dev.kiln.cpu.BatchNormGradScalar;
import dev.kiln.cpu.Pool2dScalar;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;
import dev.kiln.tensor.Shape;
import dev.kiln.testing.BatchNormStep;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CudnnLayers} (pooling forward and backward, softmax, log-softmax, batch norm) end to end against the host
 * stand-in for libcudnn.so.9 (fake_cudnn.c, built with gcc), which implements each call as cuDNN's documentation
 * defines it. What this checks is Kiln's side: the descriptors (NHWC numbers, the pooling mode, padding and strides,
 * the softmax and batch-norm modes), the argument order of every call, the backward pass's recomputed y in the
 * workspace, and which geometries cuDNN's symmetric padding cannot express. Not real cuDNN's behaviour: that needs a
 * GPU. References: the CPU's scalar pooling twin and softmax / batch norm in double, within 1e-5 relative.
 */
class CudnnLayersOnAFakeTest {
    private FakeCudnn fake;
    private CudnnLayers dnn;

    @BeforeEach void load() throws Exception {
        fake = new FakeCudnn(11);
        dnn = fake.dnn.layers();
    }

    @AfterEach void close() { if (fake != null) fake.close(); }

    private MemorySegment device(float[] host) { return fake.device(host); }

    private float[] gaussian(int n) { return fake.gaussian(n); }

    private static void assertClose(float[] want, MemorySegment got, String what) {
        float[] g = got.asSlice(0, 4L * want.length).toArray(JAVA_FLOAT);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], g[i], 1e-5 * Math.abs(want[i]) + 1e-6, what + " at " + i);
    }

    @Test
    void poolingForwardAndBackwardMatchTheScalarTwin() {
        // 3x3 windows, stride 2, SAME on 7x7: one row and column of padding on each side, which cuDNN can express
        for (Pool2d p : new Pool2d[] {new Pool2d(Pool2d.Kind.MAX, 3, 3, 2, 2, Padding.SAME), new Pool2d(Pool2d.Kind.AVG, 3, 3, 2, 2, Padding.SAME),
                Pool2d.max(2), Pool2d.avg(2)}) {
            ConvGeometry g = p.geometry(Shape.of(2, 7, 7, 3));
            assertNull(CudnnLayers.poolMisfit(g), p + " fits cuDNN");
            int xs = g.inputShape().size(), ys = g.outputShape().size();
            float[] x = gaussian(xs), dy = gaussian(ys);
            MemorySegment dx = device(x), ddy = device(dy), out = fake.arena.allocate(4L * xs);
            ConvWorkspace ws = new ConvWorkspace();
            Launch forward = dnn.pool(p, g, dx.address(), out.address());
            Launch backward = dnn.poolGrad(p, g, dx.address(), ddy.address(), out.address(), ws);
            assertEquals(4L * ys, ws.bytes(), "the backward pass recomputes y in the workspace");
            MemorySegment scratch = fake.arena.allocate(ws.bytes(), 256);
            scratch.fill((byte) 0x7f);
            ws.bind(scratch.address());

            float[] want = new float[ys];
            Pool2dScalar.forward(p, g, x, 0, want, 0);
            forward.run(null, null, 0);
            assertClose(want, out, p + " forward");
            float[] wantDx = new float[xs];
            Pool2dScalar.backward(p, g, x, 0, dy, 0, wantDx, 0);
            backward.run(null, null, 0);
            assertClose(wantDx, out, p + " backward");
            assertEquals("cudnnPoolingBackward(" + p.kind() + ")", backward.describe());
        }
    }

    @Test
    void geometriesThatSymmetricPaddingCannotExpressStayOnTheOwnKernels() {
        // SAME, window 2, stride 2 on 5 rows: Kiln pads 0 above and 1 below for 3 outputs; cuDNN's padding 0 gives 2
        String why = CudnnLayers.poolMisfit(new Pool2d(Pool2d.Kind.MAX, 2, 2, 2, 2, Padding.SAME).geometry(Shape.of(1, 5, 4, 1)));
        assertNotNull(why);
        assertTrue(why.contains("gives 2x2 outputs where Kiln's gives 3x2"), why);
        assertNull(CudnnLayers.poolMisfit(new Pool2d(Pool2d.Kind.MAX, 2, 2, 2, 2, Padding.SAME).geometry(Shape.of(1, 4, 4, 1))), "even sizes need no padding");
    }

    @Test
    void softmaxLogSoftmaxAndBatchNormMatchTheirDefinitions() {
        int rows = 5, cols = 7;
        float[] x = gaussian(rows * cols);
        for (int i = 0; i < cols; i++) x[i] += 40;   // large logits: the accurate algorithm subtracts the maximum
        MemorySegment dx = device(x), out = fake.arena.allocate(4L * x.length);
        for (boolean log : new boolean[] {false, true}) {
            float[] want = new float[x.length];
            for (int r = 0; r < rows; r++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]);
                for (int c = 0; c < cols; c++) sum += Math.exp(x[r * cols + c] - max);
                for (int c = 0; c < cols; c++) want[r * cols + c] = (float) (log ? x[r * cols + c] - max - Math.log(sum) : Math.exp(x[r * cols + c] - max) / sum);
            }
            dnn.softmax(log, rows, cols, dx.address(), out.address()).run(null, null, 0);
            assertClose(want, out, log ? "log-softmax" : "softmax");
        }

        int channels = 4, n = 6;
        float[] v = gaussian(n * channels), mean = gaussian(channels), var = new float[channels], gamma = gaussian(channels), beta = gaussian(channels);
        for (int c = 0; c < channels; c++) var[c] = 0.5f + c;
        double eps = 1e-3;
        float[] want = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            int c = i % channels;
            want[i] = (float) ((v[i] - mean[c]) / Math.sqrt(var[c] + eps) * gamma[c] + beta[c]);
        }
        int before = fake.calls();
        long[] in = {device(v).address(), device(mean).address(), device(var).address(), device(gamma).address(), device(beta).address()};
        dnn.batchNorm(eps, n, channels, in[0], in[1], in[2], in[3], in[4], out.address()).run(null, null, 0);
        assertClose(want, out, "batch norm (x, mean, var, gamma, beta in Kiln's input order)");
        assertTrue(fake.calls() > before, "the launch called the library");
    }

    @Test
    void trainingBatchNormBackwardMatchesTheFusedGradientsDefinition() {
        for (int[] size : new int[][] {{6, 4}, {1, 3}, {37, 5}}) {
            int rows = size[0], channels = size[1];
            float[] x = gaussian(rows * channels), dy = gaussian(rows * channels), gamma = gaussian(channels);
            float[] mean = new float[channels], var = new float[channels];
            BatchNormStep.batchStatistics(x, rows, channels, mean, var);
            double eps = 1e-3;
            float[] want = new float[x.length];
            new BatchNormGradScalar(channels).backward(x, 0, dy, 0, mean, 0, var, 0, gamma, 0, eps, want, 0, rows);
            MemorySegment out = fake.arena.allocate(4L * x.length);
            ConvWorkspace ws = new ConvWorkspace();
            Launch l = dnn.batchNormGrad(eps, rows, channels, device(x).address(), device(dy).address(), device(gamma).address(), out.address(), ws);
            assertEquals(8L * channels, ws.bytes(), "the scale and bias gradients cuDNN writes go to the workspace");
            MemorySegment scratch = fake.arena.allocate(ws.bytes(), 256);
            ws.bind(scratch.address());
            int before = fake.calls();
            l.run(null, null, 0);
            assertTrue(fake.calls() > before, "the launch called the library");
            assertEquals("cudnnBatchNormalizationBackward", l.describe());
            // cuDNN recomputes the statistics from x (saved mean and inverse variance NULL); the reference reads the
            // float-rounded ones, so allow a few float roundings of the largest term gamma·invstd·|dy|
            float[] got = out.asSlice(0, 4L * x.length).toArray(JAVA_FLOAT);
            for (int i = 0; i < x.length; i++) {
                int c = i % channels;
                double scale = Math.abs(gamma[c]) / Math.sqrt(var[c] + eps) * (1 + Math.abs(dy[i]));
                assertEquals(want[i], got[i], 1e-5 * scale + 1e-6, "dx at " + i + " of [" + rows + ", " + channels + "]");
            }
        }
    }
}
