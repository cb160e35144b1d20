package dev.kiln.cpu;

import dev.kiln.graph.Binary;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.Fused;
import dev.kiln.graph.ReduceFn;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;
import dev.kiln.graph.Where;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Random;

import static dev.kiln.cpu.Check.*;
import static org.junit.jupiter.api.Assertions.*;

/** The fused tile kernel against op-by-op evaluation, and the no-allocation contract. */
class FusedAndAllocationTest {

    // inputs 0..4 = x [R,C], w [R,1], b [C], h (a scalar, 0.5), t [R,C]
    // y = where(x > h, sigmoid(x·w + b), bce_with_logits(x, t)) - h
    static Fused chain(Shape out) {
        return new Fused(List.of(
                new Fused.Step(new Binary(BinaryFn.MUL), List.of(0, 1)),            // 5: x·w
                new Fused.Step(new Binary(BinaryFn.ADD), List.of(5, 2)),            // 6: + b
                new Fused.Step(new Unary(UnaryFn.SIGMOID), List.of(6)),             // 7
                new Fused.Step(new Binary(BinaryFn.BCE_WITH_LOGITS), List.of(0, 4)), // 8
                new Fused.Step(new Binary(BinaryFn.GREATER), List.of(0, 3)),        // 9: x > h
                new Fused.Step(new Where(), List.of(9, 7, 8)),                     // 10
                new Fused.Step(new Binary(BinaryFn.SUB), List.of(10, 3))),         // 11
                out);
    }

    @Test void fusedChainMatchesStepByStepEvaluationAcrossTileBoundaries() {
        Random r = new Random(31);
        // rows of 16, 64 and 256 divide the tile: the row operand is gathered once per run
        for (int[] dims : new int[][] {{3, 5}, {37, 29}, {2, 700}, {1, 1}, {3, 16}, {41, 64}, {9, 256}}) {
            Shape out = Shape.of(dims);
            int rows = dims[0], cols = dims[1], n = out.size();
            List<Shape> shapes = List.of(out, Shape.of(rows, 1), Shape.of(cols), Shape.SCALAR, out);
            float[] x = uniform(r, n, -3, 3), w = uniform(r, rows, -2, 2), b = uniform(r, cols, -1, 1), half = {0.5f}, t = uniform(r, n, 0, 1);
            float[][] ins = {x, w, b, half, t};
            for (ElementwiseKernels k : List.of(VEC, SCALAR)) {
                FusedKernel f = FusedKernel.prepare(chain(out), shapes, k);
                float[] y = new float[n + 2];
                f.run(ins, new int[] {0, 0, 0, 0, 0}, y, 1);
                for (int i = 0; i < n; i++) {
                    int row = i / cols, col = i % cols;
                    float z = ScalarElementwise.apply(BinaryFn.ADD, x[i] * w[row], b[col]);
                    float sel = x[i] > 0.5f ? ScalarElementwise.apply(UnaryFn.SIGMOID, z) : ScalarElementwise.apply(BinaryFn.BCE_WITH_LOGITS, x[i], t[i]);
                    float e = sel - 0.5f;
                    assertEquals(e, y[1 + i], 2e-6 * (Math.abs(e) + 1), k.name() + " " + out + " element " + i);
                }
                assertEquals(0f, y[0]);
                assertEquals(0f, y[n + 1]);
            }
        }
    }

    @Test void fusedShareOfTheOutputMatchesTheWhole() {
        Random r = new Random(32);
        // 211: a row gathered per tile; 64: a row gathered once per run, here from the middle of a row
        for (int cols : new int[] {211, 64}) {
            Shape out = Shape.of(30, cols);
            List<Shape> shapes = List.of(out, Shape.of(30, 1), Shape.of(cols), Shape.SCALAR, out);
            float[][] ins = {uniform(r, out.size(), -3, 3), uniform(r, 30, -2, 2), uniform(r, cols, -1, 1), {0.5f}, uniform(r, out.size(), 0, 1)};
            int[] offs = new int[5];
            FusedKernel f = FusedKernel.prepare(chain(out), shapes, VEC);
            float[] whole = new float[out.size()], part = new float[out.size()];
            f.run(ins, offs, whole, 0);
            f.run(ins, offs, part, 0, 700, 1000);
            close("share of rows of " + cols, whole, 700, part, 700, 1000, EXACT, 0);
            f.run(ins, offs, part, 0, 37, 11); // a short run: its first and only tile is shorter than the previous run's
            close("short share of rows of " + cols, whole, 37, part, 37, 11, EXACT, 0);
        }
    }

    @Test void fusedRejectsAStepReadingALaterValue() {
        Fused bad = new Fused(List.of(new Fused.Step(new Unary(UnaryFn.EXP), List.of(1))), Shape.of(4));
        assertThrows(IllegalArgumentException.class, () -> FusedKernel.prepare(bad, List.of(Shape.of(4)), VEC));
    }

    // ---------------------------------------------------------------- allocation

    interface Call { void run(); }

    /** Bytes this thread allocated over 1000 calls, after warming up until the JIT has compiled them (at most 300 rounds: C2 compiles slowly on a loaded 2-core machine). */
    static long allocatedPer1000Calls(Call c) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long bytes = -1;
        for (int round = 0; round < 300 && bytes != 0; round++) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 1000; i++) c.run();
            bytes = mx.getCurrentThreadAllocatedBytes() - before;
        }
        return bytes;
    }

    @Test void steadyStateCallsAllocateNothing() {
        Random r = new Random(33);
        int n = 2 * L + 3;
        Shape out = Shape.of(5, n);
        float[] a = uniform(r, 5 * n, 0.1, 2), b = uniform(r, n, 0.1, 2), c = uniform(r, 5 * n, -1, 1), y = new float[5 * n], y2 = new float[5 * n];
        float[] m = new float[5 * n], v = new float[5 * n], small = uniform(r, n, 0.1, 1), idx = {0, 2, 1};
        StridedView full = StridedView.contiguous(out), row = StridedView.of(out, Shape.of(n)), scalar = StridedView.of(out, Shape.SCALAR);
        StridedView tr = StridedView.transpose(out, List.of(1, 0));
        ReducePlan cols = ReducePlan.of(out, List.of(0)), rows = ReducePlan.of(out, List.of(1));
        ReducePlan odd = ReducePlan.of(Shape.of(2, 3, 4, 5), List.of(0, 2));
        Shape fs = Shape.of(5, n);
        FusedKernel fused = FusedKernel.prepare(chain(fs), List.of(fs, Shape.of(5, 1), Shape.of(n), Shape.SCALAR, fs), VEC);
        float[][] ins = {c, small, b, {0.5f}, a};
        int[] offs = new int[5];
        long[] bits = new long[(5 * n + 63) / 64];
        UnaryFn[] unaries = UnaryFn.values();   // values() clones: hoisted so the test measures the kernels
        BinaryFn[] binaries = BinaryFn.values();
        ReduceFn[] reductions = ReduceFn.values();
        for (ElementwiseKernels k : List.of(VEC, SCALAR)) {
            Call[] calls = {
                () -> { for (UnaryFn fn : unaries) k.unary(fn, a, 0, y, 0, 5 * n); },
                () -> { for (BinaryFn fn : binaries) k.binary(fn, a, 0, full, b, 0, row, y, 0, 5 * n); },
                () -> k.binary(BinaryFn.MUL, a, 0, full, b, 0, scalar, y, 0, 5 * n),
                () -> k.where(c, 0, full, a, 0, full, b, 0, row, y, 0, 5 * n),
                () -> k.copy(a, 0, tr, y, 0, 5 * n),
                () -> k.copyInto(b, 0, y, 0, StridedViewHolder.BAND, n),
                () -> k.fill(y, 0, 5 * n, 1f),
                () -> { for (ReduceFn fn : reductions) { k.reduce(fn, cols, a, 0, y, 0); k.reduce(fn, rows, a, 0, y, 0); k.reduce(fn, odd, y2, 0, y, 0); } },
                () -> { k.softmax(false, a, 0, y, 0, 5, n); k.softmax(true, a, 0, y, 0, 5, n); },
                () -> k.softmaxCrossEntropy(a, 0, c, 0, y, 0, 5, n),
                () -> k.oneHot(idx, 0, y, 0, 3, 4),
                () -> k.dropout(a, 0, y, 0, 5 * n, 0.3, 7L, 9L),
                () -> { k.dropout(a, 0, y, 0, 0, 5 * n, 0.3, 7L, 9L, bits); k.dropoutReplay(c, 0, y2, 0, 0, 5 * n, 0.3, bits); },
                () -> k.batchNorm(a, 0, b, 0, small, 0, b, 0, small, 0, 1e-3, y, 0, 5, n),
                () -> k.sgdUpdate(y2, 0, c, 0, m, 0, 5 * n, 0.01f, 0.9, true, 1e-4),
                () -> k.adamUpdate(y2, 0, c, 0, m, 0, v, 0, 5 * n, 0.01f, 4, 0.9, 0.999, 1e-8, 1e-2, true),
            };
            for (int i = 0; i < calls.length; i++) assertEquals(0, allocatedPer1000Calls(calls[i]), k.name() + " call #" + i + " allocated");
            // each function on its own too: a JIT state where one of them boxes its vectors is named
            for (UnaryFn fn : unaries) assertEquals(0, allocatedPer1000Calls(() -> k.unary(fn, a, 0, y, 0, 5 * n)), k.name() + " unary " + fn + " allocated");
        }
        assertEquals(0, allocatedPer1000Calls(() -> fused.run(ins, offs, y, 0)), "fused run allocated");
    }

    /** A concat band built once, as the compiler would. */
    static final class StridedViewHolder {
        static final StridedView BAND = StridedView.subRegion(Shape.of(5, 2 * L + 3 + 4), List.of(1, 2), Shape.of(1, 2 * L + 3));
    }
}
