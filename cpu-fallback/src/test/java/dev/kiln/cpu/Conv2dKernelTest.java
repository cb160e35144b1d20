package dev.kiln.cpu;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Padding;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.kiln.cpu.GemmTest.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class Conv2dKernelTest {

    record Case(String name, ConvGeometry g) {}

    // x shape, kernel, filters, groups, strides, dilations, padding
    static List<Case> cases() {
        return List.of(
            c("3x3 same stride 1", Shape.of(2, 7, 9, 3), 3, 3, 5, 1, 1, 1, 1, 1, Padding.SAME),
            c("3x3 valid stride 2 groups 2", Shape.of(1, 8, 8, 4), 3, 3, 6, 2, 2, 2, 1, 1, Padding.VALID),
            c("3x3 same stride 2 (odd input)", Shape.of(2, 9, 7, 3), 3, 3, 4, 1, 2, 2, 1, 1, Padding.SAME),
            c("depthwise 3x3 same", Shape.of(2, 9, 7, 6), 3, 3, 6, 6, 1, 1, 1, 1, Padding.SAME),
            c("depthwise multiplier 2 stride 2", Shape.of(1, 8, 9, 3), 3, 3, 6, 3, 2, 2, 1, 1, Padding.SAME),
            c("3x2 dilation 2 valid", Shape.of(1, 10, 11, 3), 3, 2, 4, 1, 1, 1, 2, 2, Padding.VALID),
            c("dilation 2 same", Shape.of(2, 6, 7, 2), 3, 3, 3, 1, 1, 1, 2, 2, Padding.SAME),
            c("explicit padding stride 2", Shape.of(2, 6, 7, 2), 3, 3, 3, 1, 2, 2, 1, 1, Padding.explicit(1, 2, 0, 1)),
            c("pointwise", Shape.of(2, 5, 5, 8), 1, 1, 7, 1, 1, 1, 1, 1, Padding.VALID),
            c("pointwise groups 2", Shape.of(2, 5, 3, 8), 1, 1, 6, 2, 1, 1, 1, 1, Padding.SAME),
            c("1x1 stride 2", Shape.of(1, 7, 7, 5), 1, 1, 4, 1, 2, 2, 1, 1, Padding.VALID),
            c("5x5 larger than 3x3 input, same", Shape.of(1, 3, 3, 2), 5, 5, 3, 1, 1, 1, 1, 1, Padding.SAME),
            c("several row blocks", Shape.of(1, 24, 24, 64), 3, 3, 8, 1, 1, 1, 1, 1, Padding.SAME),
            // implicit GEMM: filters past one register tile (a tail sliver), dy read in place (64 = whole slivers)
            c("37 filters, tail sliver", Shape.of(1, 5, 6, 7), 3, 3, 37, 1, 1, 1, 1, 1, Padding.SAME),
            c("64 filters, dy read in place", Shape.of(2, 9, 9, 3), 3, 3, 64, 1, 1, 1, 1, 1, Padding.SAME),
            c("groups 2 with 10 filters each", Shape.of(2, 6, 5, 6), 3, 3, 20, 2, 1, 1, 1, 1, Padding.SAME),
            c("groups 2 with 10 filters each, dilation 2", Shape.of(1, 8, 7, 20), 3, 3, 20, 2, 1, 1, 2, 2, Padding.SAME),
            c("one input channel, filter gradient in segments", Shape.of(4, 20, 20, 1), 3, 3, 5, 1, 1, 1, 1, 1, Padding.SAME),
            c("three input channels, 32 filters, segments", Shape.of(3, 25, 23, 3), 3, 3, 32, 1, 1, 1, 1, 1, Padding.SAME),
            c("padding wider than the window", Shape.of(1, 4, 5, 3), 2, 2, 9, 1, 1, 1, 1, 1, Padding.explicit(2, 0, 3, 1)),
            c("valid 3x3 reads the input in place", Shape.of(2, 8, 9, 4), 3, 3, 11, 1, 1, 1, 1, 1, Padding.VALID),
            c("one pixel", Shape.of(1, 1, 1, 2), 1, 1, 3, 1, 1, 1, 1, 1, Padding.VALID),
            // filter gradient: 4608 pixels span two rounds and several chunks; K = 72 whole 12-row tiles, dy in place
            c("two pixel rounds, whole row tiles", Shape.of(2, 48, 48, 8), 3, 3, 32, 1, 1, 1, 1, 1, Padding.SAME),
            // K = 45: a 9-row edge tile after 12-row ones (or 6-row ones), 40 filters: packed dy with a tail sliver
            c("edge row tile over many chunks", Shape.of(1, 30, 25, 5), 3, 3, 40, 1, 1, 1, 1, 1, Padding.SAME));
    }

    static Case c(String name, Shape x, int kh, int kw, int f, int groups, int sh, int sw, int dh, int dw, Padding p) {
        return new Case(name, ConvGeometry.of(x, kh, kw, f, groups, sh, sw, dh, dw, p));
    }

    static int size(Shape s) { return s.size(); }

    /**
     * Each output is a sum of K products of numbers in [-1, 1): its typical size is sqrt(K)/3 and float rounding in
     * any summation order stays well below 1e-5·sqrt(K) relative to that, so we allow 1e-5·K absolute. A wrong
     * index or a missing window term gives errors of order 1.
     */
    static void assertClose(float[] expected, float[] actual, int k, String what) {
        double tol = 1e-5 * Math.max(k, 1);
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > tol) fail(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i] + " (tolerance " + tol + ")");
        }
    }

    @Test
    void forwardAndBothGradientsMatchScalarTwin() {
        Random r = new Random(1);
        for (Case cs : cases()) {
            ConvGeometry g = cs.g();
            float[] x = random(r, size(g.inputShape())), w = random(r, size(g.filterShape())), dy = random(r, size(g.outputShape()));
            Conv2dKernel conv = Conv2dKernel.prepare(g, WorkerPoolTest.POOL);
            int kFwd = g.kh() * g.kw() * g.inChannelsPerGroup(), kData = g.kh() * g.kw() * g.outChannelsPerGroup(), kFilter = g.n() * g.oh() * g.ow();

            float[] y = new float[size(g.outputShape())], yRef = new float[y.length];
            java.util.Arrays.fill(y, Float.NaN); // the kernel must overwrite every element
            conv.forward(x, 0, w, 0, y, 0);
            Conv2dScalar.forward(g, x, 0, w, 0, yRef, 0);
            assertClose(yRef, y, kFwd, cs.name() + " forward");

            float[] dx = new float[x.length], dxRef = new float[x.length];
            java.util.Arrays.fill(dx, Float.NaN);
            conv.backwardData(dy, 0, w, 0, dx, 0);
            Conv2dScalar.backwardData(g, dy, 0, w, 0, dxRef, 0);
            assertClose(dxRef, dx, kData, cs.name() + " backwardData");

            float[] dw = new float[w.length], dwRef = new float[w.length];
            java.util.Arrays.fill(dw, Float.NaN);
            conv.backwardFilter(x, 0, dy, 0, dw, 0);
            Conv2dScalar.backwardFilter(g, x, 0, dy, 0, dwRef, 0);
            assertClose(dwRef, dw, kFilter, cs.name() + " backwardFilter");
        }
    }

    @Test
    void gradientsSatisfyTheAdjointIdentity() {
        // <conv(x, w), dy> = <x, backwardData(dy, w)> = <w, backwardFilter(x, dy)>, each side summed in double.
        // Each side is a float-rounded sum of products; we allow 1e-5·sqrt(K) relative to Σ|terms|, K the longest sum.
        Random r = new Random(2);
        for (Case cs : cases()) {
            ConvGeometry g = cs.g();
            float[] x = random(r, size(g.inputShape())), w = random(r, size(g.filterShape())), dy = random(r, size(g.outputShape()));
            Conv2dKernel conv = Conv2dKernel.prepare(g, WorkerPoolTest.POOL);
            float[] y = new float[dy.length], dx = new float[x.length], dw = new float[w.length];
            conv.forward(x, 0, w, 0, y, 0);
            conv.backwardData(dy, 0, w, 0, dx, 0);
            conv.backwardFilter(x, 0, dy, 0, dw, 0);
            double lhs = dot(y, dy), viaData = dot(x, dx), viaFilter = dot(w, dw);
            double scale = absDot(y, dy) + absDot(x, dx) + absDot(w, dw);
            int k = Math.max(g.kh() * g.kw() * Math.max(g.inChannelsPerGroup(), g.outChannelsPerGroup()), g.n() * g.oh() * g.ow());
            double tol = 1e-5 * Math.sqrt(k) * scale;
            assertEquals(lhs, viaData, tol, cs.name() + ": <conv(x,w),dy> vs <x,backwardData>");
            assertEquals(lhs, viaFilter, tol, cs.name() + ": <conv(x,w),dy> vs <w,backwardFilter>");
            assertTrue(Math.abs(lhs) > 0, cs.name() + ": the inner product should not vanish");
        }
    }

    @Test
    void convolutionCallsAllocateNothingAfterWarmUp() {
        Random r = new Random(4);
        ConvGeometry g = cases().get(1).g();
        ConvGeometry pw = cases().get(8).g();
        Conv2dKernel conv = Conv2dKernel.prepare(g, WorkerPoolTest.POOL), point = Conv2dKernel.prepare(pw, WorkerPoolTest.POOL);
        float[] x = random(r, size(g.inputShape())), w = random(r, size(g.filterShape())), dy = random(r, size(g.outputShape()));
        float[] y = new float[dy.length], dx = new float[x.length], dw = new float[w.length];
        float[] px = random(r, size(pw.inputShape())), pwt = random(r, size(pw.filterShape())), py = new float[size(pw.outputShape())];
        Runnable calls = () -> {
            conv.forward(x, 0, w, 0, y, 0);
            conv.backwardData(dy, 0, w, 0, dx, 0);
            conv.backwardFilter(x, 0, dy, 0, dw, 0);
            point.forward(px, 0, pwt, 0, py, 0);
        };
        assertEquals(0, WorkerPoolTest.allocatedBytes(calls, 100), "bytes allocated by 100 rounds of convolution calls");
    }

    @Test
    void offsetsAreHonoured() {
        Random r = new Random(9);
        ConvGeometry g = cases().get(2).g();
        float[] x = random(r, size(g.inputShape())), w = random(r, size(g.filterShape()));
        float[] xo = new float[x.length + 3], wo = new float[w.length + 5];
        System.arraycopy(x, 0, xo, 3, x.length);
        System.arraycopy(w, 0, wo, 5, w.length);
        float[] y = new float[size(g.outputShape())], yo = new float[y.length + 7];
        Conv2dKernel conv = Conv2dKernel.prepare(g, WorkerPoolTest.POOL);
        conv.forward(x, 0, w, 0, y, 0);
        conv.forward(xo, 3, wo, 5, yo, 7);
        for (int i = 0; i < y.length; i++) assertEquals(y[i], yo[7 + i], 0f);
        for (int i = 0; i < 7; i++) assertEquals(0f, yo[i]);
    }

    static double dot(float[] a, float[] b) { double s = 0; for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i]; return s; }
    static double absDot(float[] a, float[] b) { double s = 0; for (int i = 0; i < a.length; i++) s += Math.abs((double) a[i] * b[i]); return s; }
}
