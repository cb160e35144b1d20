package dev.kiln.cpu;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.kiln.cpu.GemmTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class Pool2dKernelTest {

    static List<Pool2d> ops() {
        List<Pool2d> ops = new ArrayList<>();
        for (Pool2d.Kind kind : Pool2d.Kind.values()) {
            ops.add(new Pool2d(kind, 2, 2, 2, 2, Padding.VALID));
            ops.add(new Pool2d(kind, 3, 3, 2, 2, Padding.SAME));
            ops.add(new Pool2d(kind, 3, 2, 1, 1, Padding.SAME));
            ops.add(new Pool2d(kind, 3, 3, 1, 2, Padding.VALID));
            ops.add(new Pool2d(kind, 2, 3, 2, 1, Padding.explicit(1, 0, 2, 1)));
        }
        return ops;
    }

    static final Shape[] INPUTS = {Shape.of(2, 7, 6, 1), Shape.of(1, 5, 9, 3), Shape.of(2, 6, 6, 16), Shape.of(1, 4, 5, 17), Shape.of(2, 5, 5, 35),
            // channels in full vectors, odd sides: 2×2 stride-2 windows leave the last row and column uncovered
            Shape.of(1, 7, 5, 32)};

    @Test
    void forwardAndBackwardMatchScalarTwinExactly() {
        // The kernel sums, compares and divides in the twin's order lane by lane, so equality is exact.
        Random r = new Random(8);
        for (Pool2d op : ops()) for (Shape xs : INPUTS) {
            ConvGeometry g = op.geometry(xs);
            float[] x = random(r, xs.size()), dy = random(r, g.outputShape().size());
            if (r.nextBoolean()) for (int i = 0; i < x.length; i += 3) x[i] = x[(i * 7) % x.length]; // ties for max
            for (int i = 0; i < dy.length; i += 5) dy[i] = -0f; // the twin's 0 + (-0) is +0
            Pool2dKernel kernel = Pool2dKernel.prepare(op, g, WorkerPoolTest.POOL);
            float[] y = new float[dy.length], yRef = new float[dy.length];
            Arrays.fill(y, Float.NaN);
            kernel.forward(x, 0, y, 0);
            Pool2dScalar.forward(op, g, x, 0, yRef, 0);
            assertArrayEquals(yRef, y, op + " forward on " + xs);
            float[] dx = new float[x.length], dxRef = new float[x.length];
            Arrays.fill(dx, Float.NaN);
            kernel.backward(x, 0, dy, 0, dx, 0);
            Pool2dScalar.backward(op, g, x, 0, dy, 0, dxRef, 0);
            assertArrayEquals(dxRef, dx, op + " backward on " + xs);
            // <pool(x), dy> = <x, dx> for both kinds (max pooling is x at the routed element), in double;
            // 1e-5·sqrt(window) relative to Σ|terms|
            double lhs = Conv2dKernelTest.dot(y, dy), rhs = Conv2dKernelTest.dot(x, dx);
            double tol = 1e-5 * Math.sqrt(op.windowH() * op.windowW()) * (Conv2dKernelTest.absDot(y, dy) + Conv2dKernelTest.absDot(x, dx));
            assertEquals(lhs, rhs, tol, op + " adjoint identity on " + xs);
        }
    }

    @Test
    void maxPoolingRoutesTiesToTheFirstElementOfTheWindow() {
        // all-equal input, 2×2 windows with stride 1 on 4×4: window (oh, ow) starts at (oh, ow), so exactly the
        // elements with ih < 3 and iw < 3 each receive one window's gradient
        Pool2d op = new Pool2d(Pool2d.Kind.MAX, 2, 2, 1, 1, Padding.VALID);
        for (int c : new int[] {1, 16, 19}) {
            ConvGeometry g = op.geometry(Shape.of(1, 4, 4, c));
            float[] x = new float[16 * c], dy = new float[9 * c], dx = new float[16 * c], dxRef = new float[16 * c];
            Arrays.fill(x, 0.5f);
            Arrays.fill(dy, 1f);
            Pool2dKernel.prepare(op, g, WorkerPoolTest.POOL).backward(x, 0, dy, 0, dx, 0);
            Pool2dScalar.backward(op, g, x, 0, dy, 0, dxRef, 0);
            for (int ih = 0; ih < 4; ih++) for (int iw = 0; iw < 4; iw++) for (int ch = 0; ch < c; ch++) {
                float expected = ih < 3 && iw < 3 ? 1f : 0f;
                assertEquals(expected, dx[(ih * 4 + iw) * c + ch], "kernel at " + ih + "," + iw + "," + ch);
                assertEquals(expected, dxRef[(ih * 4 + iw) * c + ch], "twin at " + ih + "," + iw + "," + ch);
            }
        }
    }

    @Test
    void averagePoolingExcludesPadding() {
        // ones under a 3×3 SAME window: a mean over in-bounds elements only is 1 everywhere (corners would be 4/9
        // if padding counted); the gradient of each corner input collects 1/4 from the corner window, 1/6 from
        // the two edge windows and 1/9 from the centre window.
        Pool2d op = new Pool2d(Pool2d.Kind.AVG, 3, 3, 1, 1, Padding.SAME);
        ConvGeometry g = op.geometry(Shape.of(1, 3, 3, 17));
        float[] x = new float[9 * 17], y = new float[9 * 17], dy = new float[9 * 17], dx = new float[9 * 17];
        Arrays.fill(x, 1f);
        Arrays.fill(dy, 1f);
        Pool2dKernel kernel = Pool2dKernel.prepare(op, g, WorkerPoolTest.POOL);
        kernel.forward(x, 0, y, 0);
        for (float v : y) assertEquals(1f, v, 0f);
        kernel.backward(x, 0, dy, 0, dx, 0);
        for (int ch = 0; ch < 17; ch++) assertEquals(1f / 4 + 2f / 6 + 1f / 9, dx[ch], 1e-6f);
    }

    @Test
    void poolingAllocatesNothingAfterWarmUp() {
        Random r = new Random(6);
        Pool2d op = new Pool2d(Pool2d.Kind.MAX, 3, 3, 2, 2, Padding.SAME), avg = Pool2d.avg(2);
        Shape xs = Shape.of(2, 8, 8, 19);
        ConvGeometry g = op.geometry(xs), ga = avg.geometry(xs);
        Pool2dKernel maxK = Pool2dKernel.prepare(op, g, WorkerPoolTest.POOL), avgK = Pool2dKernel.prepare(avg, ga, WorkerPoolTest.POOL);
        float[] x = random(r, xs.size()), dy = random(r, g.outputShape().size()), y = new float[dy.length], dx = new float[x.length];
        float[] ya = new float[ga.outputShape().size()];
        Runnable calls = () -> {
            maxK.forward(x, 0, y, 0);
            maxK.backward(x, 0, dy, 0, dx, 0);
            avgK.forward(x, 0, ya, 0);
            avgK.backward(x, 0, ya, 0, dx, 0);
        };
        assertEquals(0, WorkerPoolTest.allocatedBytes(calls, 100), "bytes allocated by 100 rounds of pooling calls");
    }
}
