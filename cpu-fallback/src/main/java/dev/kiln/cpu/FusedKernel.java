package dev.kiln.cpu;

import dev.kiln.graph.Binary;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Unary;
import dev.kiln.graph.Where;
import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * A {@link Fused} chain evaluated tile by tile: for each tile of {@value #TILE} output elements,
 * broadcast operands are gathered into scratch tiles, then every step runs over the tile, so
 * intermediates (TILE floats = 2 KiB each) stay in L1 instead of making one pass over memory per
 * step. Same-shape operands are read in place; operands with one element are passed as stride-0
 * runs; a row vector whose length divides the tile is gathered once per run. The last step writes straight into the output.
 *
 * <p>Scratch tiles are allocated by {@link #prepare}; {@link #run} allocates nothing. An instance
 * holds per-run cursors, so it is not reentrant: use one instance per thread (each thread may run
 * its own share with {@link #run(float[][], int[], float[], int, int, int)}).
 *
 * <pre>{@code
 * FusedKernel f = FusedKernel.prepare(fused, List.of(Shape.of(64, 10), Shape.of(10)), ElementwiseKernels.best());
 * f.run(new float[][] {x, bias}, new int[] {0, 0}, y, 0);
 * }</pre>
 */
public final class FusedKernel {
    static final int TILE = 512;

    private final ElementwiseKernels k;
    private final int size, inputs;
    private final StridedView[] views;
    private final int[] kind;             // per input: DIRECT, SCALAR, GATHER or PERIODIC
    private final Elementwise[] ops;
    private final int[][] args;
    private final float[][] buf;          // per value (inputs then steps): the array the tile is read from
    private final int[] off;              // per value: the tile's offset in buf (mutated per tile)
    private final int[] stride;           // per value: 1, or 0 for a one-element operand
    private final float[][] scratch;      // per value: its own tile, or null when read in place

    private static final int DIRECT = 0, SCALAR = 1, GATHER = 2, PERIODIC = 3;

    private FusedKernel(Fused op, List<Shape> inputShapes, ElementwiseKernels k) {
        this.k = k;
        this.size = op.shape().size();
        this.inputs = inputShapes.size();
        int steps = op.steps().size(), values = inputs + steps;
        views = new StridedView[inputs];
        kind = new int[inputs];
        buf = new float[values][];
        off = new int[values];
        stride = new int[values];
        scratch = new float[values][];
        for (int i = 0; i < inputs; i++) {
            Shape s = inputShapes.get(i);
            views[i] = StridedView.of(op.shape(), s);
            if (s.size() == 1) { kind[i] = SCALAR; stride[i] = 0; }
            else if (views[i].isContiguous()) { kind[i] = DIRECT; stride[i] = 1; }
            else {
                // a row vector repeated over rows (a bias, a batch-norm statistic) whose row length divides TILE:
                // every tile of a run sees the same rows, so it is gathered once per run, not once per tile
                boolean periodic = views[i].rank() == 2 && views[i].stride(0) == 0 && views[i].stride(1) == 1 && TILE % views[i].dim(1) == 0;
                kind[i] = periodic ? PERIODIC : GATHER;
                stride[i] = 1;
                scratch[i] = new float[Math.min(TILE, size)];
            }
        }
        ops = new Elementwise[steps];
        args = new int[steps][];
        for (int s = 0; s < steps; s++) {
            Fused.Step step = op.steps().get(s);
            ops[s] = step.op();
            args[s] = new int[step.args().size()];
            for (int a = 0; a < args[s].length; a++) {
                int v = step.args().get(a);
                if (v < 0 || v >= inputs + s) throw new IllegalArgumentException("fused step " + s + " reads value " + v + ", not an input or an earlier step");
                args[s][a] = v;
            }
            int want = switch (step.op()) { case Unary _ -> 1; case Binary _ -> 2; case Where _ -> 3; };
            if (args[s].length != want) throw new IllegalArgumentException("fused step " + s + " (" + step.op() + ") has " + args[s].length + " arguments, needs " + want);
            stride[inputs + s] = 1;
            if (s < steps - 1) { scratch[inputs + s] = new float[Math.min(TILE, size)]; buf[inputs + s] = scratch[inputs + s]; }
        }
    }

    /** Plans the chain for operands of the given shapes (each broadcastable to {@code op.shape()}). */
    public static FusedKernel prepare(Fused op, List<Shape> inputShapes, ElementwiseKernels k) { return new FusedKernel(op, inputShapes, k); }

    /** Output elements. */
    public int size() { return size; }

    /** y[yOff .. yOff + size) = the chain over operands ins[i] starting at inOffs[i]. */
    public void run(float[][] ins, int[] inOffs, float[] y, int yOff) { run(ins, inOffs, y, yOff, 0, size); }

    /** Output elements [start, start + count) only, written to y[yOff + start ..]. */
    public void run(float[][] ins, int[] inOffs, float[] y, int yOff, int start, int count) {
        int last = inputs + ops.length - 1;
        for (int t0 = start, end = start + count; t0 < end; t0 += TILE) {
            int len = Math.min(TILE, end - t0);
            for (int i = 0; i < inputs; i++) {
                switch (kind[i]) {
                    case DIRECT -> { buf[i] = ins[i]; off[i] = inOffs[i] + t0; }
                    case SCALAR -> { buf[i] = ins[i]; off[i] = inOffs[i]; }
                    case PERIODIC -> {
                        // the first tile is the longest, and later tiles start a multiple of the period further on
                        if (t0 == start) k.copy(ins[i], inOffs[i], views[i], t0, scratch[i], 0, len);
                        buf[i] = scratch[i]; off[i] = 0;
                    }
                    default -> { k.copy(ins[i], inOffs[i], views[i], t0, scratch[i], 0, len); buf[i] = scratch[i]; off[i] = 0; }
                }
            }
            buf[last] = y;
            off[last] = yOff + t0;
            for (int s = 0; s < ops.length; s++) {
                int v = inputs + s;
                int[] a = args[s];
                switch (ops[s]) {
                    case Unary u -> {
                        if (stride[a[0]] == 0) {
                            // a one-element operand: one evaluation, then a fill
                            k.unary(u.fn(), buf[a[0]], off[a[0]], buf[v], off[v], 1);
                            k.fill(buf[v], off[v] + 1, len - 1, buf[v][off[v]]);
                        } else {
                            k.unary(u.fn(), buf[a[0]], off[a[0]], buf[v], off[v], len);
                        }
                    }
                    case Binary b -> k.binaryRun(b.fn(), buf[a[0]], off[a[0]], stride[a[0]], buf[a[1]], off[a[1]], stride[a[1]], buf[v], off[v], len);
                    case Where _ -> k.whereRun(buf[a[0]], off[a[0]], stride[a[0]], buf[a[1]], off[a[1]], stride[a[1]], buf[a[2]], off[a[2]], stride[a[2]], buf[v], off[v], len);
                }
            }
        }
    }
}
