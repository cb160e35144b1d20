package dev.kiln.cuda;

import dev.kiln.cuda.ffi.CudaDriver.Dim3;
import dev.kiln.cuda.ffi.KernelArgs;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Pool2d;

/**
 * Kiln's own convolution and pooling kernels (conv.cu, pool.cu) bound to one geometry: the launches
 * {@link CudaLowering} makes for Conv2d, ConvBias, the two convolution gradients, Pool2d and Pool2dGrad where
 * cuDNN is not used ({@link ConvRoute}). Convolutions are implicit GEMMs in 16x16 output tiles (64x64, 4x4 per
 * thread, when the GEMM's rows and columns both reach 64), one block of 256 threads per tile and one grid z-layer per
 * group; pooling is a grid-stride loop. Every sum is one thread's, in a fixed order: the same bits for any grid, and
 * the bits of the CPU's scalar twins (conv.cu's header says why).
 *
 * <pre>{@code
 * Launch y = new ConvKernels(device).forward(g, Epilogue.Activation.RELU, x, w, bias, out);
 * }</pre>
 */
final class ConvKernels {
    /** The output tile's side (conv.cu's KILN_TILE): a block computes TILE x TILE outputs with TILE² threads. */
    static final int TILE = 16;

    private final CudaDevice device;
    /** The operands' storage, the kernel names' suffix: "f32", or "bf16" / "fp16" (conv.cu's 16-bit twins). */
    private final String format;

    ConvKernels(CudaDevice device) { this(device, "f32"); }

    private ConvKernels(CudaDevice device, String format) {
        this.device = device;
        this.format = format;
    }

    /** These kernels' twins that read x, w and dy stored in {@code format} ("bf16" or "fp16"), accumulating in f32. */
    ConvKernels reading(String format) { return new ConvKernels(device, format); }

    /** y = act(conv(x, w) + bias); {@code bias} 0 for a plain convolution (then {@code act} must be NONE). */
    Launch forward(ConvGeometry g, Epilogue.Activation act, long x, long w, long bias, long y) {
        if (bias == 0 && act != Epilogue.Activation.NONE) throw new IllegalArgumentException("an activation without bias is not an op Kiln has: " + act);
        KernelArgs args = KernelArgs.of().pointer(x).pointer(w).pointer(bias).pointer(y).i32(act.ordinal());
        return conv("kiln_conv2d_forward", (long) g.n() * g.oh() * g.ow(), g.outChannelsPerGroup(), g, args);
    }

    /** dx = convᵀ(dy, w). */
    Launch backwardData(ConvGeometry g, long dy, long w, long dx) {
        return conv("kiln_conv2d_backward_data", (long) g.n() * g.h() * g.w(), g.inChannelsPerGroup(), g, KernelArgs.of().pointer(dy).pointer(w).pointer(dx));
    }

    /** dw of the convolution given x and dy. */
    Launch backwardFilter(ConvGeometry g, long x, long dy, long dw) {
        return conv("kiln_conv2d_backward_filter", (long) g.kh() * g.kw() * g.inChannelsPerGroup(), g.outChannelsPerGroup(), g,
                KernelArgs.of().pointer(x).pointer(dy).pointer(dw));
    }

    /** y = pool(x), max or average (pool.cu's kind 0 or 1). */
    Launch pool(Pool2d p, ConvGeometry g, long x, long y, Dim3 grid) {
        return pool("kiln_pool2d_forward_f32", grid, poolGeometry(KernelArgs.of().pointer(x).pointer(y).i32(kind(p)), g));
    }

    /** dx of {@link #pool} given x and dy. */
    Launch poolGrad(Pool2d p, ConvGeometry g, long x, long dy, long dx, Dim3 grid) {
        return pool("kiln_pool2d_backward_f32", grid, poolGeometry(KernelArgs.of().pointer(x).pointer(dy).pointer(dx).i32(kind(p)), g));
    }

    /** The side of a block's output tile for a GEMM of {@code rows} x {@code cols}: 64 (the _wide kernels) when both reach 64, else 16. */
    static int tile(long rows, int cols) { return rows >= WIDE_TILE && cols >= WIDE_TILE ? WIDE_TILE : TILE; }

    /** conv.cu's _wide kernels: 4x4 outputs per thread. */
    static final int WIDE_TILE = 4 * TILE;

    /** The launch grid of one implicit GEMM in {@code tile}-sided tiles: rows along x, columns along y, groups along z. */
    static Dim3 grid(long rows, int cols, int groups, int tile) {
        long tiles = (rows + tile - 1) / tile;
        if (tiles > Integer.MAX_VALUE || (cols + tile - 1) / tile > 65_535 || groups > 65_535) {
            throw new UnsupportedOperationException("the CUDA backend's own convolution kernels take at most 2^31 row tiles, 65535 column tiles and "
                    + "65535 groups; this convolution has " + tiles + ", " + (cols + tile - 1) / tile + " and " + groups + " (install cuDNN 9 or use the CPU backend)");
        }
        return new Dim3((int) Math.max(1, tiles), Math.max(1, (cols + tile - 1) / tile), groups);
    }

    private static int kind(Pool2d p) { return p.kind() == Pool2d.Kind.MAX ? 0 : 1; }

    private static KernelArgs geometry(KernelArgs a, ConvGeometry g) {
        return a.i32(g.n()).i32(g.h()).i32(g.w()).i32(g.c()).i32(g.kh()).i32(g.kw()).i32(g.f()).i32(g.groups())
                .i32(g.strideH()).i32(g.strideW()).i32(g.dilationH()).i32(g.dilationW()).i32(g.padTop()).i32(g.padLeft()).i32(g.oh()).i32(g.ow());
    }

    private static KernelArgs poolGeometry(KernelArgs a, ConvGeometry g) {
        if (g.dilationH() != 1 || g.dilationW() != 1) throw new IllegalArgumentException("pooling windows are not dilated: " + g);
        return a.i32(g.n()).i32(g.h()).i32(g.w()).i32(g.c()).i32(g.kh()).i32(g.kw())
                .i32(g.strideH()).i32(g.strideW()).i32(g.padTop()).i32(g.padLeft()).i32(g.oh()).i32(g.ow());
    }

    /** {@code base}_FORMAT or {@code base}_wide_FORMAT over the GEMM's rows x cols per group, the geometry appended to {@code args}. */
    private Launch conv(String base, long rows, int cols, ConvGeometry g, KernelArgs args) {
        int tile = tile(rows, cols);
        String name = base + (tile == WIDE_TILE ? "_wide_" : "_") + format;
        Launch.Kernel k = new Launch.Kernel(name, grid(rows, cols, g.groups(), tile), Dim3.of(TILE * TILE), 0, geometry(args, g));
        k.function = device.function(KernelSource.CONV, name);
        return k;
    }

    private Launch pool(String name, Dim3 grid, KernelArgs args) {
        Launch.Kernel k = new Launch.Kernel(name, grid, Dim3.of(CudaLowering.THREADS), 0, args);
        k.function = device.function(KernelSource.POOL, name);
        return k;
    }
}
