package dev.kiln.cpu;

import dev.kiln.graph.AdamUpdate;
import dev.kiln.graph.Assign;
import dev.kiln.graph.BatchNorm;
import dev.kiln.graph.BatchNormGrad;
import dev.kiln.graph.Binary;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.Broadcast;
import dev.kiln.graph.Concat;
import dev.kiln.graph.Constant;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Conv2dBackwardData;
import dev.kiln.graph.ConvBias;
import dev.kiln.graph.Conv2dBackwardFilter;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.InvertedDropout;
import dev.kiln.graph.Full;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Placeholder;
import dev.kiln.graph.Linear;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Node;
import dev.kiln.graph.OneHot;
import dev.kiln.graph.Pad;
import dev.kiln.graph.Param;
import dev.kiln.graph.Pool2d;
import dev.kiln.graph.Pool2dGrad;
import dev.kiln.graph.Reduce;
import dev.kiln.graph.View;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.Slice;
import dev.kiln.graph.Softmax;
import dev.kiln.graph.SoftmaxCrossEntropy;
import dev.kiln.graph.Transpose;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;
import dev.kiln.graph.Where;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lowers one node to a pre-bound CPU {@link Step}: the exhaustive switch over the op catalogue
 * (no default, so a new op does not compile until it is handled here). Shape-derived plans,
 * workspaces and views are made here, once; {@link Step#run()} allocates nothing.
 */
final class CpuLowering {
    private final CpuKernels kernels;
    private final ElementwiseKernels k;
    private final WorkerPool pool;
    // the conv kernels of one program run one after another, so they share one scratch array
    private final ConvWorkspace convWorkspace = new ConvWorkspace();
    /** Dropout masks recorded by this program's steps, by what determines them (see the InvertedDropout case). */
    private final Map<DropoutKey, long[]> dropoutMasks = new HashMap<>();

    /** The conv scratch of this program: complete once every node is lowered (kernels reserve at preparation). */
    ConvWorkspace convWorkspace() { return convWorkspace; }

    private record DropoutKey(InvertedDropout op, Buf step, int size) {}

    /**
     * Lowers onto {@code kernels} only: {@link CpuKernels#scalar()} keeps every op on the scalar twins, which never link
     * jdk.incubator.vector; {@code pool}: the backend's worker pool, handed to every parallel kernel lowered here.
     */
    CpuLowering(CpuKernels kernels, WorkerPool pool) {
        this.kernels = kernels;
        this.k = kernels.elementwise();
        this.pool = pool;
    }

    /**
     * @param node the node to run
     * @param in   where each input lives
     * @param out  where the output goes (null for in-place updates)
     */
    Step lower(Node node, Buf[] in, Buf out) {
        Shape os = node.shape();
        int n = os.size();
        return switch (node.op()) {
            case Placeholder i -> throw leaf(node);
            case Param p -> throw leaf(node);
            case Full f -> throw leaf(node);
            case Constant c -> throw leaf(node);
            case Unary u -> {
                Buf x = in[0];
                UnaryFn fn = u.fn();
                yield split(n, (from, to) -> k.unary(fn, x.array(), x.offset() + from, out.array(), out.offset() + from, to - from));
            }
            case Binary b -> {
                Buf x = in[0], y = in[1];
                StridedView xv = StridedView.of(os, node.input(0).shape()), yv = StridedView.of(os, node.input(1).shape());
                BinaryFn fn = b.fn();
                yield split(n, (from, to) -> k.binary(fn, x.array(), x.offset(), xv, y.array(), y.offset(), yv, from, out.array(), out.offset() + from, to - from));
            }
            case Where w -> {
                Buf c = in[0], x = in[1], y = in[2];
                StridedView cv = StridedView.of(os, node.input(0).shape()), xv = StridedView.of(os, node.input(1).shape()),
                        yv = StridedView.of(os, node.input(2).shape());
                yield () -> k.where(c.array(), c.offset(), cv, x.array(), x.offset(), xv, y.array(), y.offset(), yv, out.array(), out.offset(), n);
            }
            case Reduce r -> {
                Buf x = in[0];
                ReducePlan plan = ReducePlan.of(node.input(0).shape(), r.axes());
                yield () -> k.reduce(r.fn(), plan, x.array(), x.offset(), out.array(), out.offset());
            }
            case View r -> copyStep(in[0], StridedView.of(os, os), out, n);
            case Transpose t -> copyStep(in[0], StridedView.transpose(node.input(0).shape(), t.perm()), out, n);
            case Broadcast b -> copyStep(in[0], StridedView.of(os, node.input(0).shape()), out, n);
            case Slice s -> copyStep(in[0], StridedView.slice(node.input(0).shape(), s.start(), s.end()), out, n);
            case Concat c -> {
                List<Step> parts = new ArrayList<>();
                int offset = 0;
                for (int i = 0; i < in.length; i++) {
                    Shape part = node.input(i).shape();
                    List<Integer> start = new ArrayList<>();
                    for (int d = 0; d < os.rank(); d++) start.add(d == c.axis() ? offset : 0);
                    parts.add(scatterStep(in[i], part, StridedView.subRegion(os, start, part), out));
                    offset += part.dim(c.axis());
                }
                Step[] steps = parts.toArray(Step[]::new);
                yield () -> { for (Step s : steps) s.run(); };
            }
            case Pad p -> {
                Shape part = node.input(0).shape();
                Step scatter = scatterStep(in[0], part, StridedView.subRegion(os, p.before(), part), out);
                float value = (float) p.value();
                yield () -> { k.fill(out.array(), out.offset(), n, value); scatter.run(); };
            }
            case MatMul m -> {
                Buf a = in[0], b = in[1];
                MatMulPlan plan = MatMulPlan.of(node.input(0).shape(), node.input(1).shape(), m.transposeA(), m.transposeB());
                CpuKernels.MatMuls mm = kernels.matmul();
                yield () -> mm.matmul(pool, plan, a.array(), a.offset(), b.array(), b.offset(), out.array(), out.offset(), null, 0, Epilogue.Activation.NONE);
            }
            case Linear l -> {
                Buf a = in[0], b = in[1], bias = in[2];
                MatMulPlan plan = MatMulPlan.of(node.input(0).shape(), node.input(1).shape(), l.transposeA(), l.transposeB());
                Epilogue.Activation act = l.activation();
                CpuKernels.MatMuls mm = kernels.matmul();
                yield () -> mm.matmul(pool, plan, a.array(), a.offset(), b.array(), b.offset(), out.array(), out.offset(), bias.array(), bias.offset(), act);
            }
            case Conv2d c -> {
                Buf x = in[0], w = in[1];
                var g = c.geometry(node.input(0).shape(), node.input(1).shape());
                CpuKernels.Conv kernel = kernels.conv().prepare(g, pool, convWorkspace, Conv2dKernel.Pass.FORWARD);
                yield () -> kernel.forward(x.array(), x.offset(), w.array(), w.offset(), out.array(), out.offset(), null, 0, Epilogue.Activation.NONE);
            }
            case ConvBias c -> {
                Buf x = in[0], w = in[1], bias = in[2];
                var g = c.geometry(node.input(0).shape(), node.input(1).shape());
                Epilogue.Activation act = c.activation();
                CpuKernels.Conv kernel = kernels.conv().prepare(g, pool, convWorkspace, Conv2dKernel.Pass.FORWARD);
                yield () -> kernel.forward(x.array(), x.offset(), w.array(), w.offset(), out.array(), out.offset(), bias.array(), bias.offset(), act);
            }
            case Conv2dBackwardData c -> {
                Buf dy = in[0], w = in[1];
                var g = c.geometry(node.input(1).shape());
                CpuKernels.Conv kernel = kernels.conv().prepare(g, pool, convWorkspace, Conv2dKernel.Pass.BACKWARD_DATA);
                yield () -> kernel.backwardData(dy.array(), dy.offset(), w.array(), w.offset(), out.array(), out.offset());
            }
            case Conv2dBackwardFilter c -> {
                Buf x = in[0], dy = in[1];
                var g = c.geometry(node.input(0).shape());
                CpuKernels.Conv kernel = kernels.conv().prepare(g, pool, convWorkspace, Conv2dKernel.Pass.BACKWARD_FILTER);
                yield () -> kernel.backwardFilter(x.array(), x.offset(), dy.array(), dy.offset(), out.array(), out.offset());
            }
            case Pool2d p -> {
                Buf x = in[0];
                var g = p.geometry(node.input(0).shape());
                CpuKernels.Pool kernel = kernels.pool().prepare(p, g, pool);
                yield () -> kernel.forward(x.array(), x.offset(), out.array(), out.offset());
            }
            case Pool2dGrad p -> {
                Buf x = in[0], dy = in[1];
                var g = p.pool().geometry(node.input(0).shape());
                CpuKernels.Pool kernel = kernels.pool().prepare(p.pool(), g, pool);
                yield () -> kernel.backward(x.array(), x.offset(), dy.array(), dy.offset(), out.array(), out.offset());
            }
            case BatchNorm bn -> {
                Buf x = in[0], mean = in[1], var = in[2], gamma = in[3], beta = in[4];
                int channels = os.dim(-1), rows = n / channels;
                double eps = bn.epsilon();
                yield () -> k.batchNorm(x.array(), x.offset(), mean.array(), mean.offset(), var.array(), var.offset(),
                        gamma.array(), gamma.offset(), beta.array(), beta.offset(), eps, out.array(), out.offset(), rows, channels);
            }
            case BatchNormGrad bn -> {
                Buf x = in[0], dy = in[1], mean = in[2], var = in[3], gamma = in[4];
                int channels = os.dim(-1), rows = n / channels;
                double eps = bn.epsilon();
                BatchNormGradScalar kernel = new BatchNormGradScalar(channels);
                yield () -> kernel.backward(x.array(), x.offset(), dy.array(), dy.offset(), mean.array(), mean.offset(),
                        var.array(), var.offset(), gamma.array(), gamma.offset(), eps, out.array(), out.offset(), rows);
            }
            case InvertedDropout d -> {
                Buf x = in[0], step = in[1];
                double rate = d.rate();
                long seed = d.seed();
                // The first dropout of a (rate, seed, step, size) in the program draws the mask and records it, one bit
                // per element; a later one with the same key (the gradient: dropout of g under the same mask) replays
                // the bits instead of running Philox again. Steps run in lowering order, every run, so the record
                // always precedes the replay and both read the same step value.
                DropoutKey key = new DropoutKey(d, step, n);
                long[] recorded = dropoutMasks.get(key);
                if (recorded != null) {
                    yield split(n, (from, to) -> k.dropoutReplay(x.array(), x.offset() + from, out.array(), out.offset() + from, from, to - from,
                            rate, recorded));
                }
                long[] bits = new long[(n + 63) >>> 6];
                dropoutMasks.put(key, bits);
                yield split(n, (from, to) -> k.dropout(x.array(), x.offset() + from, out.array(), out.offset() + from, from, to - from,
                        rate, seed, (long) step.array()[step.offset()], bits));
            }
            case Softmax s -> {
                Buf x = in[0];
                int cols = os.dim(-1), rows = n / cols;
                boolean log = s.log();
                yield () -> k.softmax(log, x.array(), x.offset(), out.array(), out.offset(), rows, cols);
            }
            case SoftmaxCrossEntropy s -> {
                Buf z = in[0], labels = in[1];
                int cols = node.input(0).shape().dim(-1), rows = n;
                yield () -> k.softmaxCrossEntropy(z.array(), z.offset(), labels.array(), labels.offset(), out.array(), out.offset(), rows, cols);
            }
            case OneHot o -> {
                Buf idx = in[0];
                int count = node.input(0).shape().size(), depth = o.depth();
                yield () -> k.oneHot(idx.array(), idx.offset(), out.array(), out.offset(), count, depth);
            }
            case SgdUpdate s -> {
                Buf p = in[0], g = in[1], v = in[2], lr = in[3], apply = s.conditional() ? in[4] : null;
                int size = node.input(0).shape().size();
                double momentum = s.momentum(), wd = s.weightDecay();
                boolean nesterov = s.nesterov();
                yield () -> { if (skipped(apply)) return; k.sgdUpdate(p.array(), p.offset(), g.array(), g.offset(), v.array(), v.offset(), size,
                        lr.array()[lr.offset()], momentum, nesterov, wd); };
            }
            case AdamUpdate a -> {
                Buf p = in[0], g = in[1], m = in[2], v = in[3], lr = in[4], step = in[5], apply = a.conditional() ? in[6] : null;
                int size = node.input(0).shape().size();
                double b1 = a.beta1(), b2 = a.beta2(), eps = a.epsilon(), wd = a.weightDecay();
                boolean decoupled = a.decoupled();
                yield split(size, (from, to) -> { if (!skipped(apply)) k.adamUpdate(p.array(), p.offset() + from, g.array(), g.offset() + from, m.array(), m.offset() + from,
                        v.array(), v.offset() + from, to - from, lr.array()[lr.offset()], (long) step.array()[step.offset()], b1, b2, eps, wd, decoupled); });
            }
            case Assign a -> {
                Buf target = in[0], value = in[1];
                int size = node.input(0).shape().size();
                yield () -> System.arraycopy(value.array(), value.offset(), target.array(), target.offset(), size);
            }
            case Fused f -> {
                List<Shape> shapes = new ArrayList<>();
                for (Node i : node.inputs()) shapes.add(i.shape());
                FusedKernel kernel = FusedKernel.prepare(f, shapes, k);
                float[][] arrays = new float[in.length][];
                int[] offsets = new int[in.length];
                for (int i = 0; i < in.length; i++) { arrays[i] = in[i].array(); offsets[i] = in[i].offset(); }
                yield () -> kernel.run(arrays, offsets, out.array(), out.offset());
            }
        };
    }

    /**
     * A step over elements [0, n) of a streaming kernel: on the calling thread below {@link #PARALLEL_ELEMENTS}
     * (waking a worker costs more than a small op: batch-1 inference stays on one thread), else in chunks of whole
     * cache lines across the pool. Elementwise results do not depend on the split.
     */
    private Step split(int n, WorkerPool.RangeTask body) {
        if (!kernels.splitElementwise() || n < PARALLEL_ELEMENTS || pool.threads() == 1) return () -> body.run(0, n);
        // multiples of 64 elements: whole cache lines, and whole words of a recorded dropout mask
        int chunk = Math.max(PARALLEL_ELEMENTS / 4, (n + 4 * pool.threads() - 1) / (4 * pool.threads()) + 63 & ~63);
        int chunks = (n + chunk - 1) / chunk;
        WorkerPool.RangeTask ranges = (from, to) -> body.run(from * chunk, Math.min(n, to * chunk));
        return () -> pool.parallelFor(chunks, ranges);
    }

    /** Whether a conditional update's apply flag (null: an unconditional update) says to skip this step: it holds 0. */
    private static boolean skipped(Buf apply) { return apply != null && apply.array()[apply.offset()] == 0; }

    /** Elementwise ops with at least this many elements split across the worker pool. */
    static final int PARALLEL_ELEMENTS = 1 << 16;

    private Step copyStep(Buf x, StridedView view, Buf out, int n) {
        return () -> k.copy(x.array(), x.offset(), view, out.array(), out.offset(), n);
    }

    /** Copies a dense {@code part} into the region of {@code out} that {@code region} describes. */
    private Step scatterStep(Buf x, Shape part, StridedView region, Buf out) {
        int n = part.size();
        return () -> k.copyInto(x.array(), x.offset(), out.array(), out.offset(), region, n);
    }

    private static IllegalStateException leaf(Node node) {
        return new IllegalStateException(node.describe() + " is a leaf: its value is bound, not computed by a kernel");
    }
}
