package dev.kiln.cuda;

import dev.kiln.cpu.Conv2dScalar;
import dev.kiln.cpu.Pool2dScalar;
import dev.kiln.cuda.emu.EmulatedCuda;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.emu.Nvcc;
import dev.kiln.cuda.ffi.CudaDriver.Dim3;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.kiln.cuda.emu.EmulatedDevice.floats;
import static dev.kiln.cuda.emu.EmulatedDevice.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * conv.cu and pool.cu, bound by {@link ConvKernels}, on the emulated device against the CPU's scalar twins
 * ({@link Conv2dScalar}, {@link Pool2dScalar}) at small odd shapes: stride 1 and 2, SAME (with its asymmetric
 * padding) and VALID (with leftover rows), 1x1 and 3x3 filters, groups and dilation, several 16x16 tiles and depth
 * slices. Exact, bit for bit: the kernels add the same separately rounded products in the twins' order (conv.cu's
 * header says why). The relu epilogue is exact too; sigmoid and tanh use CUDA's expf/tanhf (within 2 ulp of Java's),
 * so those are compared to relative 1e-6.
 */
class ConvKernelsTest {
    private EmulatedCuda cuda;
    private ConvKernels kernels;
    private final Random random = new Random(16);

    @BeforeEach void start() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        cuda = new EmulatedCuda();
        kernels = new ConvKernels(cuda.device);
    }

    @AfterEach void stop() { if (cuda != null) cuda.close(); }

    /** x shape, filter KH, KW, F, stride, padding, dilation, groups. */
    record Case(int n, int h, int w, int c, int kh, int kw, int f, int stride, Padding padding, int dilation, int groups) {
        ConvGeometry geometry() {
            return new Conv2d(stride, stride, padding, dilation, dilation, groups).geometry(Shape.of(n, h, w, c), Shape.of(kh, kw, c / groups, f));
        }
    }

    static final Case[] CASES = {
            new Case(2, 5, 7, 3, 3, 3, 5, 1, Padding.SAME, 1, 1),     // 70 output rows: 5 row tiles; depth 27: two slices
            new Case(1, 7, 6, 4, 3, 3, 6, 2, Padding.SAME, 1, 1),     // stride 2 SAME: padding 1 top, 0 left (asymmetric)
            new Case(2, 6, 5, 3, 1, 1, 4, 1, Padding.VALID, 1, 1),    // 1x1
            new Case(1, 9, 8, 2, 3, 3, 3, 2, Padding.VALID, 1, 1),    // stride 2 VALID: a leftover column
            new Case(1, 7, 7, 4, 3, 3, 6, 1, Padding.SAME, 2, 2),     // dilation 2, two groups
            new Case(1, 4, 5, 3, 3, 3, 18, 1, Padding.symmetric(1, 2), 1, 1), // 18 filters: two column tiles; explicit padding
            new Case(1, 8, 9, 5, 3, 3, 66, 1, Padding.SAME, 1, 1),    // forward 72 x 66: the 64x64 tiles of the _wide kernel, 2 x 2 of them
            new Case(1, 8, 8, 66, 1, 1, 64, 1, Padding.VALID, 1, 1),  // every pass 64 x 64 or more: all three _wide kernels
    };

    private float[] gaussian(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    /** The kernels {@link #run} launched. */
    private final java.util.Set<String> launched = new java.util.TreeSet<>();

    private float[] run(Launch launch, long out, int n) {
        launched.add(launch.describe().split("<")[0]);
        launch.run(cuda.driver, cuda.gemm, 0);
        return floats(cuda.driver, out, n);
    }

    private static void assertBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), what + " at " + i + ": scalar twin " + want[i] + ", kernel " + got[i]);
        }
    }

    @Test
    void convolutionForwardBothGradientsAndTheEpilogueMatchTheScalarTwinBitForBit() {
        for (Case k : CASES) {
            ConvGeometry g = k.geometry();
            String at = k + " -> " + g.outputShape();
            int xs = g.inputShape().size(), ws = g.filterShape().size(), ys = g.outputShape().size();
            float[] x = gaussian(xs), w = gaussian(ws), dy = gaussian(ys), bias = gaussian(g.f());
            long dx = upload(cuda.driver, x), dw = upload(cuda.driver, w), ddy = upload(cuda.driver, dy), db = upload(cuda.driver, bias);
            long out = cuda.driver.memAlloc(4L * Math.max(xs, Math.max(ws, ys)));

            float[] want = new float[ys];
            Conv2dScalar.forward(g, x, 0, w, 0, want, 0);
            assertBits(want, run(kernels.forward(g, Epilogue.Activation.NONE, dx, dw, 0, out), out, ys), "forward " + at);
            Conv2dScalar.forward(g, x, 0, w, 0, want, 0, bias, 0, Epilogue.Activation.RELU);
            assertBits(want, run(kernels.forward(g, Epilogue.Activation.RELU, dx, dw, db, out), out, ys), "conv + bias, relu " + at);

            float[] wantDx = new float[xs];
            Conv2dScalar.backwardData(g, dy, 0, w, 0, wantDx, 0);
            assertBits(wantDx, run(kernels.backwardData(g, ddy, dw, out), out, xs), "backward data " + at);

            float[] wantDw = new float[ws];
            Conv2dScalar.backwardFilter(g, x, 0, dy, 0, wantDw, 0);
            assertBits(wantDw, run(kernels.backwardFilter(g, dx, ddy, out), out, ws), "backward filter " + at);
            EmulatedDevice.CASES.incrementAndGet();
        }
        assertEquals(java.util.Set.of("kiln_conv2d_backward_data_f32", "kiln_conv2d_backward_data_wide_f32", "kiln_conv2d_backward_filter_f32",
                "kiln_conv2d_backward_filter_wide_f32", "kiln_conv2d_forward_f32", "kiln_conv2d_forward_wide_f32"), launched, "both tile sizes of every pass ran");
    }

    @Test
    void sigmoidAndTanhEpiloguesMatchTheScalarTwinWithinCudasMathUlps() {
        Case k = CASES[1];
        ConvGeometry g = k.geometry();
        float[] x = gaussian(g.inputShape().size()), w = gaussian(g.filterShape().size()), bias = gaussian(g.f());
        long dx = upload(cuda.driver, x), dw = upload(cuda.driver, w), db = upload(cuda.driver, bias);
        int ys = g.outputShape().size();
        long out = cuda.driver.memAlloc(4L * ys);
        for (Epilogue.Activation act : new Epilogue.Activation[] {Epilogue.Activation.SIGMOID, Epilogue.Activation.TANH}) {
            float[] want = new float[ys];
            Conv2dScalar.forward(g, x, 0, w, 0, want, 0, bias, 0, act);
            float[] got = run(kernels.forward(g, act, dx, dw, db, out), out, ys);
            for (int i = 0; i < ys; i++) assertEquals(want[i], got[i], 1e-6 * Math.abs(want[i]) + 1e-7, act + " at " + i);
        }
        EmulatedDevice.CASES.incrementAndGet();
    }

    @Test
    void maxAndAveragePoolingAndTheirGradientsMatchTheScalarTwinBitForBit() {
        Object[][] pools = {
                {Shape.of(1, 5, 7, 3), Pool2d.max(2)},                                                    // VALID, leftover row and column
                {Shape.of(2, 7, 6, 2), new Pool2d(Pool2d.Kind.MAX, 3, 3, 2, 2, Padding.SAME)},            // overlapping windows
                {Shape.of(1, 6, 5, 3), new Pool2d(Pool2d.Kind.AVG, 3, 3, 1, 1, Padding.SAME)},            // padding left out of the count
                {Shape.of(2, 5, 5, 1), new Pool2d(Pool2d.Kind.AVG, 2, 2, 2, 2, Padding.SAME)},
                {Shape.of(1, 6, 6, 2), new Pool2d(Pool2d.Kind.MAX, 3, 2, 1, 2, Padding.symmetric(1, 1))}, // rectangular window
        };
        for (Object[] c : pools) {
            Shape s = (Shape) c[0];
            Pool2d p = (Pool2d) c[1];
            ConvGeometry g = p.geometry(s);
            float[] x = new float[s.size()];
            // few distinct values: ties inside windows, so max pooling's gradient must pick the first maximum
            for (int i = 0; i < x.length; i++) x[i] = random.nextInt(5) - 2;
            x[0] = -0f;
            float[] dy = gaussian(g.outputShape().size());
            long dx = upload(cuda.driver, x), ddy = upload(cuda.driver, dy), out = cuda.driver.memAlloc(4L * x.length);
            Dim3 grid = Dim3.of(3);   // fewer blocks than elements: the grid-stride loops do more than one pass
            float[] want = new float[dy.length];
            Pool2dScalar.forward(p, g, x, 0, want, 0);
            assertBits(want, run(kernels.pool(p, g, dx, out, grid), out, dy.length), p + " over " + s);
            float[] wantDx = new float[x.length];
            Pool2dScalar.backward(p, g, x, 0, dy, 0, wantDx, 0);
            float[] gotDx = run(kernels.poolGrad(p, g, dx, ddy, out, grid), out, x.length);
            assertBits(wantDx, gotDx, p + " gradient over " + s);
            int nonzero = 0;
            for (float v : gotDx) if (v != 0) nonzero++;
            assertTrue(nonzero > 0, "the gradient reaches x");
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    @Test
    void withoutCudnnEveryConvolutionPassIsLoweredToTheOwnKernelsAndSaysWhy() {
        Node x = Ops.input("x", Shape.of(1, 6, 6, 2)), w = Ops.input("w", Shape.of(3, 3, 2, 4));
        Node y = Ops.conv2d(x, w, Conv2d.of(2, Padding.SAME));
        CudaLowering lowering = new CudaLowering(cuda.device, new KernelGenerator());
        List<Launch> forward = lowering.lower(y, new long[] {1L << 20, 2L << 20}, 3L << 20);
        assertEquals("kiln_conv2d_forward_f32", forward.getFirst().describe().split("<")[0]);
        assertEquals(1, lowering.convolutionRoutes().size());
        String route = lowering.convolutionRoutes().getFirst();
        assertTrue(route.startsWith("forward ") && route.contains("own kernels (cuDNN 9 is not loaded"), route);
        assertEquals(0, lowering.workspaceBytes(), "the own kernels need no workspace");
    }

    @Test
    void withoutCudnnPoolingSoftmaxAndBatchNormStayOnTheOwnKernelsAndSayWhy() {
        Node x = Ops.input("x", Shape.of(1, 6, 6, 2));
        CudaLowering lowering = new CudaLowering(cuda.device, new KernelGenerator());
        Node pooled = Ops.pool2d(x, Pool2d.max(2));
        assertEquals("kiln_pool2d_forward_f32", lowering.lower(pooled, new long[] {1L << 20}, 3L << 20).getFirst().describe().split("<")[0]);
        Node logits = Ops.input("z", Shape.of(4, 5));
        lowering.lower(Ops.softmax(logits), new long[] {1L << 20}, 3L << 20);
        List<String> routes = lowering.convolutionRoutes();
        assertEquals(2, routes.size(), routes.toString());
        assertTrue(routes.get(0).startsWith("max_pool2d ") && routes.get(0).contains("own kernels (cuDNN 9 is not loaded"), routes.get(0));
        assertTrue(routes.get(1).startsWith("softmax [4, 5]: own kernels (cuDNN 9 is not loaded"), routes.get(1));
    }

    @Test
    void launchGridsCoverEveryTileAndGroup() {
        assertEquals(new Dim3(5, 1, 1), ConvKernels.grid(70, 5, 1, 16));
        assertEquals(new Dim3(1, 2, 3), ConvKernels.grid(16, 17, 3, 16));
        assertEquals(new Dim3(2, 2, 1), ConvKernels.grid(72, 66, 1, 64));
        assertEquals(16, ConvKernels.tile(1000, 63));
        assertEquals(64, ConvKernels.tile(64, 64));
    }
}
