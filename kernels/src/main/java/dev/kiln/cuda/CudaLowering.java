package dev.kiln.cuda;

import dev.kiln.cuda.KernelGenerator.Strided;
import dev.kiln.cuda.ffi.Cublas;
import dev.kiln.cuda.ffi.CudaDriver.Dim3;
import dev.kiln.cuda.ffi.KernelArgs;
import dev.kiln.graph.AdamUpdate;
import dev.kiln.graph.Assign;
import dev.kiln.graph.BatchNorm;
import dev.kiln.graph.BatchNormGrad;
import dev.kiln.graph.Binary;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.Broadcast;
import dev.kiln.graph.Concat;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Constant;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Conv2dBackwardData;
import dev.kiln.graph.Conv2dBackwardFilter;
import dev.kiln.graph.ConvBias;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Full;
import dev.kiln.graph.Fused;
import dev.kiln.graph.InvertedDropout;
import dev.kiln.graph.Linear;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Node;
import dev.kiln.graph.OneHot;
import dev.kiln.graph.Pad;
import dev.kiln.graph.Param;
import dev.kiln.graph.Placeholder;
import dev.kiln.graph.Pool2d;
import dev.kiln.graph.Pool2dGrad;
import dev.kiln.graph.Reduce;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.Slice;
import dev.kiln.graph.Softmax;
import dev.kiln.graph.SoftmaxCrossEntropy;
import dev.kiln.graph.Transpose;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;
import dev.kiln.graph.View;
import dev.kiln.graph.Where;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Lowers one node to its device launches: the exhaustive switch over the op catalogue (no default,
 * so a new op does not compile until it is handled here or named as not lowered). Elementwise ops,
 * fused chains, movement, reductions, softmax and one-hot become generated kernels
 * ({@link KernelGenerator}); GEMMs go to the {@link dev.kiln.cuda.ffi.Sgemm} (over 16-bit operand copies when both are
 * rounded to bf16/fp16: {@link HalfOperands}); convolutions, pooling, softmax and
 * batch norm to cuDNN where it is loaded and can express them, else Kiln's own kernels ({@link ConvLowering}); dropout,
 * softmax cross-entropy and the optimizer updates use the hand-written kernels in
 * {@code src/main/resources/dev/kiln/cuda}. Pointers are device addresses; every argument is bound
 * here, once.
 */
final class CudaLowering {
    static final int THREADS = 256;

    private final CudaDevice device;
    private final KernelGenerator generator;
    private final ConvLowering conv;
    /** Where products over two 16-bit-rounded operands copy them ({@link HalfOperands}). */
    private final HalfOperands half;
    /** Kernels of the generated unit, whose functions are set once it is compiled and loaded. */
    final List<Launch.Kernel> generated = new ArrayList<>();

    /** Grid-stride kernels get at most this many blocks (a few per SM: results do not depend on it). */
    private final int maxBlocks;

    /** A lowering whose products all read f32 operands. */
    CudaLowering(CudaDevice device, KernelGenerator generator) { this(device, generator, HalfOperands.plan(List.of(), false, false)); }

    CudaLowering(CudaDevice device, KernelGenerator generator, HalfOperands half) {
        this.device = device;
        this.half = half;
        this.generator = generator;
        this.conv = new ConvLowering(device);
        this.maxBlocks = device.maxBlocks();
    }

    /**
     * @param in  the device address of each input
     * @param out the device address of the output (0 for in-place updates)
     */
    List<Launch> lower(Node node, long[] in, long out) {
        Shape os = node.shape();
        int n = os.size();
        return switch (node.op()) {
            case Placeholder p -> throw leaf(node);
            case Param p -> throw leaf(node);
            case Full f -> throw leaf(node);
            case Constant c -> throw leaf(node);
            case Unary u -> List.of(elementwise(generator.single(u, shapes(node), os), out, in, n));
            case Binary b -> List.of(elementwise(generator.single(b, shapes(node), os), out, in, n));
            case Where w -> List.of(elementwise(generator.single(w, shapes(node), os), out, in, n));
            case Fused f -> List.of(elementwise(generator.elementwise(f.steps(), shapes(node), f.shape()), out, in, n));
            case Reduce r -> List.of(elementwise(generator.reduce(r.fn(), node.input(0).shape(), r.axes()), out, in, n));
            case View v -> List.of(new Launch.Copy(out, in[0], 4L * n));
            case Transpose t -> {
                Shape x = node.input(0).shape();
                int[] xs = x.strides();
                long[] s = new long[os.rank()];
                for (int a = 0; a < s.length; a++) s[a] = xs[t.perm().get(a)];
                yield List.of(copy(os, new Strided(0, s), Strided.dense(os), out, in[0]));
            }
            case Broadcast b -> List.of(copy(os, Strided.broadcast(node.input(0).shape(), os), Strided.dense(os), out, in[0]));
            case Slice s -> {
                int[] xs = node.input(0).shape().strides();
                long offset = 0;
                for (int a = 0; a < xs.length; a++) offset += (long) s.start().get(a) * xs[a];
                yield List.of(copy(os, new Strided(offset, KernelGenerator.longs(xs)), Strided.dense(os), out, in[0]));
            }
            case Concat c -> {
                List<Launch> parts = new ArrayList<>();
                int[] ostr = os.strides();
                long at = 0;
                for (int i = 0; i < in.length; i++) {
                    Shape part = node.input(i).shape();
                    parts.add(copy(part, Strided.dense(part), new Strided(at * ostr[c.axis()], KernelGenerator.longs(ostr)), out, in[i]));
                    at += part.dim(c.axis());
                }
                yield parts;
            }
            case Pad p -> {
                Shape part = node.input(0).shape();
                int[] ostr = os.strides();
                long offset = 0;
                for (int a = 0; a < ostr.length; a++) offset += (long) p.before().get(a) * ostr[a];
                yield List.of(new Launch.Fill(out, Float.floatToRawIntBits((float) p.value()), n),
                        copy(part, Strided.dense(part), new Strided(offset, KernelGenerator.longs(ostr)), out, in[0]));
            }
            case MatMul m -> gemm(node, m.transposeA(), m.transposeB(), in[0], in[1], out);
            case Linear l -> {
                List<Launch> product = new ArrayList<>(gemm(node, l.transposeA(), l.transposeB(), in[0], in[1], out));
                // the epilogue in place over the product: out = act(out + bias)
                List<Fused.Step> steps = new ArrayList<>(List.of(new Fused.Step(new Binary(BinaryFn.ADD), List.of(0, 1))));
                if (l.activation().fn() != null) steps.add(new Fused.Step(new Unary(l.activation().fn()), List.of(2)));
                String name = generator.elementwise(steps, List.of(os, node.input(2).shape()), os);
                product.add(elementwise(name, out, new long[] {out, in[2]}, n));
                yield product;
            }
            case Conv2d c -> {
                ConvGeometry g = c.geometry(node.input(0).shape(), node.input(1).shape());
                yield convolution(node, in, "forward", g, (k, x, w) -> k.forward(g, Epilogue.Activation.NONE, x, w, 0, out),
                        () -> conv.forward(g, Epilogue.Activation.NONE, in[0], in[1], 0, out));
            }
            case ConvBias c -> {
                ConvGeometry g = c.geometry(node.input(0).shape(), node.input(1).shape());
                yield convolution(node, in, "forward", g, (k, x, w) -> k.forward(g, c.activation(), x, w, in[2], out),
                        () -> conv.forward(g, c.activation(), in[0], in[1], in[2], out));
            }
            case Conv2dBackwardData c -> {
                ConvGeometry g = c.geometry(node.input(1).shape());
                yield convolution(node, in, "backward data", g, (k, dy, w) -> k.backwardData(g, dy, w, out), () -> conv.backwardData(g, in[0], in[1], out));
            }
            case Conv2dBackwardFilter c -> {
                ConvGeometry g = c.geometry(node.input(0).shape());
                yield convolution(node, in, "backward filter", g, (k, x, dy) -> k.backwardFilter(g, x, dy, out), () -> conv.backwardFilter(g, in[0], in[1], out));
            }
            case Pool2d p -> List.of(conv.pool(p, p.geometry(node.input(0).shape()), in[0], out, grid(n)));
            case Pool2dGrad p -> List.of(conv.poolGrad(p.pool(), p.pool().geometry(node.input(0).shape()), in[0], in[1], out, grid(n)));
            case BatchNorm bn -> {
                int channels = os.dim(-1);
                long rows = n / channels;
                yield List.of(conv.batchNorm(bn.epsilon(), rows, channels, in, out, () -> kernel(KernelSource.BATCH_NORM, "kiln_batchnorm_forward_f32", n, KernelArgs.of()
                        .pointer(in[0]).pointer(in[1]).pointer(in[2]).pointer(in[3]).pointer(in[4]).pointer(out)
                        .f32((float) bn.epsilon()).i64(rows).i32(channels))));
            }
            case BatchNormGrad bn -> {
                int channels = os.dim(-1), rows = n / channels;
                // one block per channel (grid-stride over channels); dgamma and dbeta null: the graph sums them itself
                Dim3 blocks = new Dim3(Math.max(1, Math.min(channels, maxBlocks)), 1, 1);
                yield List.of(conv.batchNormGrad(bn.epsilon(), rows, channels, in, out, () -> kernel(KernelSource.BATCH_NORM, "kiln_batchnorm_backward_f32", blocks, KernelArgs.of()
                        .pointer(in[0]).pointer(in[1]).pointer(in[2]).pointer(in[3]).pointer(in[4]).pointer(out).pointer(0).pointer(0)
                        .f32((float) bn.epsilon()).i32(rows).i32(channels))));
            }
            case InvertedDropout d -> {
                // the mask is Philox of (element / 4, step) under the seed: the CPU's (dev.kiln.cpu.DropoutMask), bit for bit
                int threshold = (int) Math.ceil(d.rate() * 0x1p24);
                float scale = (float) (1.0 / (1.0 - d.rate()));
                yield List.of(kernel(KernelSource.DROPOUT, "kiln_dropout_f32", (n + 3) / 4, KernelArgs.of()
                        .pointer(in[0]).pointer(out).pointer(in[1]).i32((int) d.seed()).i32((int) (d.seed() >>> 32))
                        .i32(threshold).f32(scale).i64(n)));
            }
            case Softmax s -> {
                int cols = os.dim(-1);
                yield List.of(conv.softmax(s.log(), n / cols, cols, in[0], out, () -> elementwise(generator.softmax(s.log(), cols), out, in, n / cols)));
            }
            case SoftmaxCrossEntropy s -> {
                int classes = node.input(0).shape().dim(-1);
                // one block per row; the kernel's block reductions need a multiple of 32 threads
                yield List.of(kernel(KernelSource.SOFTMAX, "kiln_softmax_xent_f32", new Dim3(Math.max(1, Math.min(n, maxBlocks)), 1, 1),
                        KernelArgs.of().pointer(in[0]).pointer(in[1]).pointer(out).pointer(0).pointer(0).i32(n).i32(classes)));
            }
            case OneHot o -> List.of(elementwise(generator.oneHot(o.depth()), out, in, node.input(0).shape().size()));
            case SgdUpdate s -> {
                int size = node.input(0).shape().size();
                yield List.of(kernel(KernelSource.OPTIMIZERS, "kiln_sgd_update_f32", size, KernelArgs.of()
                        .pointer(in[0]).pointer(in[1]).pointer(in[2]).pointer(in[3]).pointer(s.conditional() ? in[4] : 0)
                        .f32((float) s.momentum()).f32((float) s.weightDecay()).i32(s.nesterov() ? 1 : 0).i64(size)));
            }
            case AdamUpdate a -> {
                int size = node.input(0).shape().size();
                yield List.of(kernel(KernelSource.ELEMENTWISE, "kiln_adam_update_f32", size, KernelArgs.of()
                        .pointer(in[0]).pointer(in[1]).pointer(in[2]).pointer(in[3]).pointer(in[4]).pointer(in[5])
                        .pointer(a.conditional() ? in[6] : 0).f32((float) a.beta1()).f32((float) a.beta2()).f32((float) a.epsilon()).f32((float) a.weightDecay())
                        .i32(a.decoupled() ? 1 : 0).i64(size)));
            }
            case Assign a -> List.of(new Launch.Copy(in[0], in[1], 4L * node.input(0).shape().size()));
        };
    }

    /** Device bytes the program's cuDNN convolutions share; allocate them and {@link #bindWorkspace} once lowering is done. */
    long workspaceBytes() { return conv.workspace.bytes(); }

    void bindWorkspace(long address) { conv.workspace.bind(address); }

    /** Each convolution pass's, pooling's, softmax's and batch norm's route (cuDNN or own kernels, and why), in lowering order. */
    List<String> convolutionRoutes() { return conv.routes; }

    /**
     * Row-major C[..., M, N] = op(A) · op(B) as cuBLAS's column-major Cᵀ = op(B)ᵀ · op(A)ᵀ: the operands
     * swap, the transposes stay. Batch axes: each operand has the output's batch or none (stride 0).
     */
    private List<Launch> gemm(Node node, boolean ta, boolean tb, long a, long b, long c) {
        Shape as = node.input(0).shape(), bs = node.input(1).shape(), cs = node.shape();
        int m = cs.dim(-2), n = cs.dim(-1), k = ta ? as.dim(-2) : as.dim(-1);
        int batch = cs.size() / (m * n);
        long strideA = batchStride(node, as, batch), strideB = batchStride(node, bs, batch);
        UnaryFn rounding = half.rounding(node);
        List<Launch> launches = new ArrayList<>(3);
        if (rounding != null) {   // the product reads the operands' 16-bit copies
            launches.add(cast(rounding, a, half.first(), as));
            launches.add(cast(rounding, b, half.second(), bs));
            a = half.first();
            b = half.second();
        }
        launches.add(new Launch.Gemm(rounding == null ? Cublas.CUDA_R_32F : HalfOperands.cudaType(rounding), tb ? Cublas.OP_T : Cublas.OP_N,
                ta ? Cublas.OP_T : Cublas.OP_N, n, m, k, b, tb ? k : n, strideB, a, ta ? m : k, strideA, c, n, (long) m * n, batch));
        return launches;
    }

    /** Both operands rounded to 16 bits: each cast into its 16-bit copy ({@link HalfOperands}), which the product then reads. */
    private Launch cast(UnaryFn rounding, long operand, long copy, Shape shape) {
        return elementwise(generator.castHalf(rounding), copy, new long[] {operand}, shape.size());
    }

    /**
     * A convolution pass over operands {@code in[0]}, {@code in[1]}: {@code f32} (ConvLowering's route: cuDNN or the own
     * kernels), or when both are rounded to 16 bits, their 16-bit copies through the own kernels' _bf16/_fp16 twins.
     */
    private List<Launch> convolution(Node node, long[] in, String pass, ConvGeometry g, ConvLowering.HalfPass own16, Supplier<Launch> f32) {
        UnaryFn rounding = half.rounding(node);
        if (rounding == null) return List.of(f32.get());
        return List.of(cast(rounding, in[0], half.first(), node.input(0).shape()), cast(rounding, in[1], half.second(), node.input(1).shape()),
                conv.half(HalfOperands.format(rounding), pass, g, own16, half.first(), half.second()));
    }

    private static long batchStride(Node node, Shape operand, int batch) {
        int matrices = operand.size() / (operand.dim(-1) * operand.dim(-2));
        if (matrices == batch) return (long) operand.dim(-1) * operand.dim(-2);
        if (matrices == 1) return 0;
        throw new UnsupportedOperationException("the CUDA backend does not lower " + node.describe() + ": an operand " + operand
                + " broadcasts over part of the batch axes; reshape it to the full batch or run on the CPU backend (-Dkiln.backend=cpu)");
    }

    private Launch elementwise(String name, long out, long[] in, long n) {
        KernelArgs args = KernelArgs.of().pointer(out);
        for (long p : in) args.pointer(p);
        Launch.Kernel k = new Launch.Kernel(name, grid(n), Dim3.of(THREADS), 0, args.i64(n));
        generated.add(k);
        return k;
    }

    private Launch copy(Shape space, Strided from, Strided to, long out, long in) {
        String name = generator.copy(space, from, to);
        Launch.Kernel k = new Launch.Kernel(name, grid(space.size()), Dim3.of(THREADS), 0, KernelArgs.of().pointer(out).pointer(in).i64(space.size()));
        generated.add(k);
        return k;
    }

    private Launch kernel(KernelSource source, String name, long threads, KernelArgs args) {
        return kernel(source, name, grid(threads), args);
    }

    private Launch kernel(KernelSource source, String name, Dim3 grid, KernelArgs args) {
        Launch.Kernel k = new Launch.Kernel(name, grid, Dim3.of(THREADS), 0, args);
        k.function = device.function(source, name);
        return k;
    }

    private Dim3 grid(long threads) {
        return Dim3.of((int) Math.max(1, Math.min(maxBlocks, (threads + THREADS - 1) / THREADS)));
    }

    private static List<Shape> shapes(Node node) {
        List<Shape> s = new ArrayList<>();
        for (Node i : node.inputs()) s.add(i.shape());
        return s;
    }

    private static IllegalStateException leaf(Node node) {
        return new IllegalStateException(node.describe() + " is a leaf: its value is bound, not computed by a kernel");
    }
}
