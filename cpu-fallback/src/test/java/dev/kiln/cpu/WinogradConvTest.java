package dev.kiln.cpu;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Padding;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.kiln.cpu.GemmTest.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class WinogradConvTest {
    private static final int[] SIZES = {1, 2, 3, 5, 7, 8, 14}, CHANNELS = {16, 17, 33, 64};
    // Winograd F(2,3) in fp32 is accurate to a few 1e-6 of Σ|terms| (the transforms add up to 16 terms before and
    // after each product; measured at most 2.8e-7 here); a wrong tap or index is an error of one term, ~Σ|terms|/K, K >= 144
    private static final double RELATIVE = 4e-6;

    /** Every size on both axes, every channel count on both sides, N 1 and 3, same and valid padding. */
    static List<ConvGeometry> geometries() {
        List<ConvGeometry> out = new ArrayList<>();
        Random r = new Random(5);
        for (int i = 0; i < 28; i++) {
            int h = SIZES[i % 7], w = SIZES[(3 * i + 2) % 7], c = CHANNELS[i % 4], f = CHANNELS[(i / 4 + i / 7) % 4];
            int n = i % 3 == 0 ? 3 : 1;
            Padding p = i % 2 == 0 || h < 3 || w < 3 ? Padding.SAME : Padding.VALID;
            out.add(ConvGeometry.of(Shape.of(n, h, w, c), 3, 3, f, 1, 1, 1, 1, 1, p));
        }
        out.add(ConvGeometry.of(Shape.of(2, 14, 14, 64), 3, 3, 64, 1, 1, 1, 1, 1, Padding.SAME));   // M3's middle block
        out.add(ConvGeometry.of(Shape.of(3, 7, 7, 64), 3, 3, 128, 1, 1, 1, 1, 1, Padding.SAME));    // M3's last block
        out.add(ConvGeometry.of(Shape.of(1, 9, 8, 16), 3, 3, 17, 1, 1, 1, 1, 1, Padding.explicit(2, 0, 1, 2)));
        out.add(ConvGeometry.of(Shape.of(1, 40, 40, 16), 3, 3, 16, 1, 1, 1, 1, 1, Padding.SAME)); // several blocks
        // 1587 tiles: 4 filter-gradient blocks, so 4 segments of partial sums
        out.add(ConvGeometry.of(Shape.of(3, 46, 46, 16), 3, 3, 16, 1, 1, 1, 1, 1, Padding.SAME));
        return out;
    }

    static float[] abs(float[] a) {
        float[] b = a.clone();
        for (int i = 0; i < b.length; i++) b[i] = Math.abs(b[i]);
        return b;
    }

    /** |actual − expected| <= RELATIVE · Σ|terms| + 1e-6 elementwise (the 1e-6 for relu's clipped zeros). */
    static void assertClose(float[] expected, float[] actual, float[] sumAbs, String what) {
        for (int i = 0; i < expected.length; i++) {
            double tol = RELATIVE * sumAbs[i] + 1e-6;
            if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
                fail(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i] + " (tolerance " + tol + ")");
            }
        }
    }

    @Test
    void forwardAndBothGradientsMatchDirectConvolutionAtOddShapes() {
        Random r = new Random(11);
        Epilogue.Activation[] acts = {Epilogue.Activation.NONE, Epilogue.Activation.RELU};
        int k = 0;
        for (ConvGeometry g : geometries()) {
            assertTrue(Conv2dKernel.winogradPossible(g), g.toString());
            String name = g.inputShape() + " f" + g.f() + " pad " + g.padTop() + "," + g.padLeft() + " out " + g.oh() + "x" + g.ow();
            float[] x = random(r, g.inputShape().size()), w = random(r, g.filterShape().size()), dy = random(r, g.outputShape().size());
            float[] bias = k % 2 == 0 ? random(r, g.f()) : null;
            Epilogue.Activation act = acts[(k / 2) % 2];
            k++;
            Conv2dKernel conv = Conv2dKernel.prepare(g, WorkerPoolTest.POOL, true);

            float[] y = new float[g.outputShape().size()], yRef = new float[y.length], yAbs = new float[y.length];
            Arrays.fill(y, Float.NaN); // every output must be written
            conv.forward(x, 0, w, 0, y, 0, bias, 0, act);
            Conv2dScalar.forward(g, x, 0, w, 0, yRef, 0, bias, 0, act);
            Conv2dScalar.forward(g, abs(x), 0, abs(w), 0, yAbs, 0, bias == null ? null : abs(bias), 0, Epilogue.Activation.NONE);
            assertClose(yRef, y, yAbs, name + " forward " + act + (bias == null ? "" : " bias"));

            float[] dx = new float[x.length], dxRef = new float[x.length], dxAbs = new float[x.length];
            Arrays.fill(dx, Float.NaN);
            conv.backwardData(dy, 0, w, 0, dx, 0);
            Conv2dScalar.backwardData(g, dy, 0, w, 0, dxRef, 0);
            Conv2dScalar.backwardData(g, abs(dy), 0, abs(w), 0, dxAbs, 0);
            assertClose(dxRef, dx, dxAbs, name + " backwardData");

            float[] dw = new float[w.length], dwRef = new float[w.length], dwAbs = new float[w.length];
            Arrays.fill(dw, Float.NaN);
            conv.backwardFilter(x, 0, dy, 0, dw, 0);
            Conv2dScalar.backwardFilter(g, x, 0, dy, 0, dwRef, 0);
            Conv2dScalar.backwardFilter(g, abs(x), 0, abs(dy), 0, dwAbs, 0);
            assertClose(dwRef, dw, dwAbs, name + " backwardFilter");
        }
    }

    @Test
    void forcedDirectPathAgreesWithWinogradPath() {
        Random r = new Random(12);
        ConvGeometry g = ConvGeometry.of(Shape.of(2, 7, 6, 33), 3, 3, 17, 1, 1, 1, 1, 1, Padding.SAME);
        float[] x = random(r, g.inputShape().size()), w = random(r, g.filterShape().size()), bias = random(r, g.f());
        float[] dy = random(r, g.outputShape().size());
        float[] yAbs = new float[g.outputShape().size()], dxAbs = new float[x.length];
        Conv2dScalar.forward(g, abs(x), 0, abs(w), 0, yAbs, 0, abs(bias), 0, Epilogue.Activation.NONE);
        Conv2dScalar.backwardData(g, abs(dy), 0, abs(w), 0, dxAbs, 0);
        float[][] ys = new float[2][], dxs = new float[2][], dws = new float[2][];
        for (int v = 0; v < 2; v++) {
            Conv2dKernel conv = Conv2dKernel.prepare(g, WorkerPoolTest.POOL, v == 1);
            ys[v] = new float[yAbs.length];
            dxs[v] = new float[x.length];
            conv.forward(x, 0, w, 0, ys[v], 0, bias, 0, Epilogue.Activation.RELU);
            conv.backwardData(dy, 0, w, 0, dxs[v], 0);
            dws[v] = new float[w.length];
            conv.backwardFilter(x, 0, dy, 0, dws[v], 0);
        }
        float[] dwAbs = new float[w.length];
        Conv2dScalar.backwardFilter(g, abs(x), 0, abs(dy), 0, dwAbs, 0);
        assertClose(dws[0], dws[1], dwAbs, "backwardFilter direct vs winograd");
        assertFalse(Arrays.equals(dws[0], dws[1]), "the filter gradients should round differently: both ran the same code");
        assertClose(ys[0], ys[1], yAbs, "forward direct vs winograd");
        assertClose(dxs[0], dxs[1], dxAbs, "backwardData direct vs winograd");
        assertFalse(Arrays.equals(ys[0], ys[1]), "the two paths should round differently: both ran the same code");
    }

    @Test
    void thinChannelsSmallOutputsAndOtherConvolutionsStayOnTheDirectPath() {
        assertFalse(Conv2dKernel.winogradApplies(ConvGeometry.of(Shape.of(64, 28, 28, 1), 3, 3, 32, 1, 1, 1, 1, 1, Padding.SAME)));
        assertFalse(Conv2dKernel.winogradApplies(ConvGeometry.of(Shape.of(1, 32, 32, 32), 3, 3, 32, 1, 2, 2, 1, 1, Padding.SAME)));
        assertFalse(Conv2dKernel.winogradApplies(ConvGeometry.of(Shape.of(1, 32, 32, 32), 3, 3, 32, 2, 1, 1, 1, 1, Padding.SAME)));
        assertFalse(Conv2dKernel.winogradApplies(ConvGeometry.of(Shape.of(1, 32, 32, 32), 3, 3, 32, 1, 1, 1, 2, 2, Padding.SAME)));
        assertFalse(Conv2dKernel.winogradApplies(ConvGeometry.of(Shape.of(1, 32, 32, 32), 5, 5, 32, 1, 1, 1, 1, 1, Padding.SAME)));
        assertTrue(Conv2dKernel.winogradApplies(ConvGeometry.of(Shape.of(1, 32, 32, 32), 3, 3, 32, 1, 1, 1, 1, 1, Padding.SAME)));
        assertFalse(Conv2dKernel.winogradApplies(ConvGeometry.of(Shape.of(1, 7, 7, 128), 3, 3, 128, 1, 1, 1, 1, 1, Padding.SAME)));
        assertTrue(Conv2dKernel.winogradApplies(ConvGeometry.of(Shape.of(3, 7, 7, 128), 3, 3, 128, 1, 1, 1, 1, 1, Padding.SAME)));
        assertTrue(Conv2dKernel.winogradApplies(ConvGeometry.of(Shape.of(1, 14, 14, 32), 3, 3, 64, 1, 1, 1, 1, 1, Padding.VALID)));
    }

    @Test
    void winogradCallsAllocateNothingAfterWarmUp() {
        Random r = new Random(13);
        ConvGeometry g = ConvGeometry.of(Shape.of(2, 14, 14, 32), 3, 3, 64, 1, 1, 1, 1, 1, Padding.SAME);
        Conv2dKernel conv = Conv2dKernel.prepare(g, WorkerPoolTest.POOL, true);
        float[] x = random(r, g.inputShape().size()), w = random(r, g.filterShape().size()), bias = random(r, g.f());
        float[] y = new float[g.outputShape().size()], dx = new float[x.length], dw = new float[w.length];
        Runnable calls = () -> {
            conv.forward(x, 0, w, 0, y, 0, bias, 0, Epilogue.Activation.RELU);
            conv.backwardData(y, 0, w, 0, dx, 0);
            conv.backwardFilter(x, 0, y, 0, dw, 0);
        };
        assertEquals(0, WorkerPoolTest.allocatedBytes(calls, 50), "bytes allocated by 50 rounds of Winograd calls");
    }

    @Test
    void resultsDoNotDependOnThreadCountAndOffsetsAreHonoured() {
        Random r = new Random(14);
        // 1104 tiles: 7 forward blocks, 3 filter-gradient segments
        ConvGeometry g = ConvGeometry.of(Shape.of(2, 47, 45, 17), 3, 3, 20, 1, 1, 1, 1, 1, Padding.SAME);
        float[] x = random(r, g.inputShape().size()), w = random(r, g.filterShape().size()), bias = random(r, g.f());
        float[] dy = random(r, g.outputShape().size());
        float[] y1 = new float[dy.length], dx1 = new float[x.length], dw1 = new float[w.length];
        Conv2dKernel one = Conv2dKernel.prepare(g, new WorkerPool(1), true);
        one.forward(x, 0, w, 0, y1, 0, bias, 0, Epilogue.Activation.RELU);
        one.backwardData(dy, 0, w, 0, dx1, 0);
        one.backwardFilter(x, 0, dy, 0, dw1, 0);
        // three threads, every array at an offset, the output's margins watched
        float[] xo = new float[x.length + 3], wo = new float[w.length + 5], bo = new float[bias.length + 2], dyo = new float[dy.length + 4];
        System.arraycopy(x, 0, xo, 3, x.length);
        System.arraycopy(w, 0, wo, 5, w.length);
        System.arraycopy(bias, 0, bo, 2, bias.length);
        System.arraycopy(dy, 0, dyo, 4, dy.length);
        float[] yo = new float[dy.length + 14], dxo = new float[x.length + 14], dwo = new float[w.length + 14];
        Arrays.fill(yo, 7f);
        Arrays.fill(dxo, 7f);
        Arrays.fill(dwo, 7f);
        Conv2dKernel three = Conv2dKernel.prepare(g, new WorkerPool(3), true);
        three.forward(xo, 3, wo, 5, yo, 7, bo, 2, Epilogue.Activation.RELU);
        three.backwardData(dyo, 4, wo, 5, dxo, 7);
        three.backwardFilter(xo, 3, dyo, 4, dwo, 7);
        assertTrue(Arrays.equals(y1, Arrays.copyOfRange(yo, 7, 7 + y1.length)), "forward: 1 thread vs 3 threads at offsets");
        assertTrue(Arrays.equals(dx1, Arrays.copyOfRange(dxo, 7, 7 + dx1.length)), "backwardData: 1 thread vs 3 threads at offsets");
        assertTrue(Arrays.equals(dw1, Arrays.copyOfRange(dwo, 7, 7 + dw1.length)), "backwardFilter: 1 thread vs 3 threads at offsets");
        for (int i = 0; i < 7; i++) {
            assertEquals(7f, yo[i]); assertEquals(7f, yo[yo.length - 1 - i]);
            assertEquals(7f, dxo[i]); assertEquals(7f, dxo[dxo.length - 1 - i]);
            assertEquals(7f, dwo[i]); assertEquals(7f, dwo[dwo.length - 1 - i]);
        }
    }
}
