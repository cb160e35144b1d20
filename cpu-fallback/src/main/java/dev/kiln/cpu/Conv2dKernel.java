package dev.kiln.cpu;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;

import java.util.Arrays;
import java.util.EnumSet;

/**
 * Conv2d and its two gradients on the CPU. Twin: {@link Conv2dScalar}.
 * x [N,H,W,C] (NHWC), w [KH,KW,C/groups,F] (HWIO), y [N,OH,OW,F].
 *
 * <pre>{@code
 * Conv2dKernel conv = Conv2dKernel.prepare(geometry, pool); // once per program: tables and workspace
 * conv.forward(x, 0, w, 0, y, 0);                       // per step: allocates nothing
 * }</pre>
 *
 * Three mechanisms. 3×3, stride-1, undilated, ungrouped convolutions with at least {@link #MIN_WINOGRAD_CHANNELS}
 * input and output channels use Winograd F(2×2, 3×3) ({@link WinogradConv}: 16 multiplies per 2×2 output tile and
 * channel pair instead of 36) for all three passes, unless {@code kiln.cpu.winograd=false}. The implicit GEMM ({@link ConvForwardGemm}, {@link ConvFilterGemm}) reads the im2col matrix
 * straight from a zero-padded copy of the input ({@link ConvSource}) and serves the forward pass, the filter
 * gradient, and the stride-1 data gradient (a forward convolution of dy with the flipped filter), whenever a
 * group has at least {@link #MIN_IMPLICIT_CHANNELS} output channels to fill the register tile's width.
 * The rest (depthwise and thin groups; strided data gradients) uses explicit im2col blocks and {@link Gemm}:
 * with P = N·OH·OW output pixels and K = KH·KW·Cg, group g is col[P,K] · W_g[K,Fg] → y[:, g·Fg ..];
 * backwardData is dcol = dy_g · W_gᵀ then a scatter-add of dcol back to dx (col2im); backwardFilter is
 * dW_g = colᵀ · dy_g. col is built for a block of rows at a time so it stays near 1 MiB. Depthwise
 * convolutions on that path are correct, not fast; a channel-vectorised direct kernel is the obvious next step.
 * A prepared kernel owns its tables and uses its workspace: one caller at a time.
 */
public final class Conv2dKernel implements CpuKernels.Conv {
    /** The passes a kernel is prepared for: each costs tables and workspace, so a program asks only for its own. */
    public enum Pass { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    // below this many output channels per group the NR-wide register tile is mostly padding: im2col + GEMM instead
    static final int MIN_IMPLICIT_CHANNELS = 8;
    // the workspace holds this many floats unless one row of col is larger
    private static final int WORKSPACE_FLOATS = 1 << 18;
    // fewer rows than this per block starve the GEMM's micro-kernel; allow a larger workspace instead
    private static final int MIN_BLOCK_ROWS = 4 * Gemm.MR;

    private final ConvGeometry g;
    private final WorkerPool pool;
    private final int cg, fg, kdim, rows, blockRows;
    private final boolean pointwise;
    private final float[] col;
    private final Im2col im2col = new Im2col();
    private final ConvForwardGemm forwardGemm, dataGemm;
    private final ConvFilterGemm filterGemm;
    private final WinogradConv forwardWinograd, dataWinograd, filterWinograd;

    /**
     * Whether 3×3 stride-1 convolutions with enough channels take the Winograd path ({@link WinogradConv});
     * {@code kiln.cpu.winograd=false} forces the implicit GEMM, for A/B measurements. Read at each preparation,
     * so one JVM can compile a program each way and alternate them.
     */
    static boolean winogradEnabled() { return !"false".equals(System.getProperty("kiln.cpu.winograd")); }
    // 16 in and out measured 1.25-1.37x faster than the implicit GEMM (28x28, batch 16)
    static final int MIN_WINOGRAD_CHANNELS = 16;
    // fewer output pixels do not pay for the filter transform (16·C·F per call): at batch 1 and 1 thread, 7x7x128->128
    // forward and data gradient ran 0.84-0.98x the implicit GEMM, 4x4 0.3x; 14x14 (196 pixels) 1.0-1.2x
    static final int MIN_WINOGRAD_PIXELS = 128;

    /** Whether {@link WinogradConv} can serve {@code g}: 3×3, stride 1, undilated, ungrouped, a vector of channels each side. */
    static boolean winogradPossible(ConvGeometry g) {
        return g.kh() == 3 && g.kw() == 3 && g.strideH() == 1 && g.strideW() == 1 && g.dilationH() == 1 && g.dilationW() == 1
                && g.groups() == 1 && g.c() >= Gemm.VL && g.f() >= Gemm.VL;
    }

    /** Whether {@link WinogradConv} serves all three passes of {@code g} by default: possible, and measured to pay. */
    static boolean winogradApplies(ConvGeometry g) {
        return winogradPossible(g) && g.c() >= MIN_WINOGRAD_CHANNELS && g.f() >= MIN_WINOGRAD_CHANNELS
                && (long) g.n() * g.oh() * g.ow() >= MIN_WINOGRAD_PIXELS;
    }

    private Conv2dKernel(ConvGeometry g, WorkerPool pool, ConvWorkspace ws, EnumSet<Pass> passes, boolean winograd) {
        if (g.c() % g.groups() != 0 || g.f() % g.groups() != 0) {
            throw new IllegalArgumentException("channels " + g.c() + " and filters " + g.f() + " must divide into " + g.groups() + " groups");
        }
        this.g = g;
        this.pool = pool;
        this.cg = g.inChannelsPerGroup();
        this.fg = g.outChannelsPerGroup();
        this.kdim = g.kh() * g.kw() * cg;
        this.rows = g.n() * g.oh() * g.ow();
        this.pointwise = g.kh() == 1 && g.kw() == 1 && g.strideH() == 1 && g.strideW() == 1
                && g.padTop() == 0 && g.padLeft() == 0 && g.oh() == g.h() && g.ow() == g.w();
        this.blockRows = Math.min(rows, Math.max(MIN_BLOCK_ROWS, WORKSPACE_FLOATS / kdim));
        boolean wide = g.groups() == 1 || fg >= MIN_IMPLICIT_CHANNELS;
        ConvSource x = wide && (passes.contains(Pass.FORWARD) || passes.contains(Pass.BACKWARD_FILTER))
                ? new ConvSource(g.n(), g.h(), g.w(), g.c(), cg, g.kh(), g.kw(), g.strideH(), g.strideW(),
                                 g.dilationH(), g.dilationW(), g.padTop(), g.padLeft(), g.oh(), g.ow())
                : null;
        boolean wino = winograd && winogradPossible(g);
        this.forwardWinograd = wino && passes.contains(Pass.FORWARD)
                ? new WinogradConv(g.n(), g.h(), g.w(), g.c(), g.oh(), g.ow(), g.f(), g.padTop(), g.padLeft(), false, pool, ws)
                : null;
        // stride 1: dx is the correlation of dy, padded by 2 - padTop above, with the flipped, channel-swapped filter
        this.dataWinograd = wino && passes.contains(Pass.BACKWARD_DATA)
                ? new WinogradConv(g.n(), g.oh(), g.ow(), g.f(), g.h(), g.w(), g.c(), 2 - g.padTop(), 2 - g.padLeft(), true, pool, ws)
                : null;
        this.filterWinograd = wino && passes.contains(Pass.BACKWARD_FILTER)
                ? new WinogradConv(g.n(), g.h(), g.w(), g.c(), g.oh(), g.ow(), g.f(), g.padTop(), g.padLeft(), false, pool, ws).forFilterGradient()
                : null;
        this.forwardGemm = x != null && forwardWinograd == null && passes.contains(Pass.FORWARD) ? new ConvForwardGemm(x, g.groups(), fg, false, pool, ws) : null;
        this.filterGemm = x != null && filterWinograd == null && passes.contains(Pass.BACKWARD_FILTER) ? new ConvFilterGemm(x, g.groups(), fg, pool, ws) : null;
        boolean dataImplicit = passes.contains(Pass.BACKWARD_DATA) && dataWinograd == null && g.strideH() == 1 && g.strideW() == 1
                && (g.groups() == 1 || cg >= MIN_IMPLICIT_CHANNELS);
        // stride 1: dx is the correlation of dy, padded by (KH-1)·dilation - padTop above, with the flipped filter
        this.dataGemm = dataImplicit
                ? new ConvForwardGemm(new ConvSource(g.n(), g.oh(), g.ow(), g.f(), fg, g.kh(), g.kw(), 1, 1, g.dilationH(), g.dilationW(),
                        (g.kh() - 1) * g.dilationH() - g.padTop(), (g.kw() - 1) * g.dilationW() - g.padLeft(), g.h(), g.w()),
                        g.groups(), cg, true, pool, ws)
                : null;
        boolean explicit = (passes.contains(Pass.FORWARD) && forwardGemm == null && forwardWinograd == null)
                || (passes.contains(Pass.BACKWARD_DATA) && dataGemm == null && dataWinograd == null)
                || (passes.contains(Pass.BACKWARD_FILTER) && filterGemm == null && filterWinograd == null);
        this.col = pointwise || !explicit ? new float[0] : new float[blockRows * kdim];
    }

    /** A kernel for all three passes with its own workspace, running on {@code pool}. */
    public static Conv2dKernel prepare(ConvGeometry g, WorkerPool pool) {
        return new Conv2dKernel(g, pool, new ConvWorkspace(), EnumSet.allOf(Pass.class), winogradEnabled() && winogradApplies(g));
    }

    /** As {@link #prepare(ConvGeometry, WorkerPool)}, taking the Winograd path wherever it is possible, or never: tests and A/B harnesses. */
    static Conv2dKernel prepare(ConvGeometry g, WorkerPool pool, boolean winograd) {
        return new Conv2dKernel(g, pool, new ConvWorkspace(), EnumSet.allOf(Pass.class), winograd);
    }

    /** A kernel for the given passes, sharing {@code ws} with the other kernels of a program (run one at a time). */
    public static Conv2dKernel prepare(ConvGeometry g, WorkerPool pool, ConvWorkspace ws, Pass first, Pass... rest) {
        return new Conv2dKernel(g, pool, ws, EnumSet.of(first, rest), winogradEnabled() && winogradApplies(g));
    }

    public ConvGeometry geometry() { return g; }

    /** y = conv(x, w); y is overwritten. */
    public void forward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff) {
        forward(x, xOff, w, wOff, y, yOff, null, 0, Epilogue.Activation.NONE);
    }

    /** y = act(conv(x, w) + bias), bias [F] (null: none) applied to each output tile while it is in cache; y is overwritten. */
    public void forward(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, float[] bias, int biasOff, Epilogue.Activation act) {
        if (forwardWinograd != null) { forwardWinograd.run(x, xOff, w, wOff, y, yOff, bias, biasOff, act); return; }
        if (forwardGemm != null) { forwardGemm.run(x, xOff, w, wOff, g.f(), y, yOff, bias, biasOff, act); return; }
        int f = g.f();
        for (int gi = 0; gi < g.groups(); gi++) {
            int bo = biasOff + gi * fg;
            if (pointwise) {
                Gemm.gemm(pool, false, false, rows, fg, cg, x, xOff + gi * cg, g.c(), w, wOff + gi * fg, f,
                          y, yOff + gi * fg, f, false, bias, bo, act);
                continue;
            }
            for (int r0 = 0; r0 < rows; r0 += blockRows) {
                int nr = Math.min(blockRows, rows - r0);
                im2col.fill(x, xOff, gi, r0, nr);
                Gemm.gemm(pool, false, false, nr, fg, kdim, col, 0, kdim, w, wOff + gi * fg, f,
                          y, yOff + r0 * f + gi * fg, f, false, bias, bo, act);
            }
        }
    }

    /** dx = ∂⟨conv(x, w), dy⟩/∂x; dx is overwritten. */
    public void backwardData(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff) {
        if (dataWinograd != null) { dataWinograd.run(dy, dyOff, w, wOff, dx, dxOff, null, 0, Epilogue.Activation.NONE); return; }
        if (dataGemm != null) { dataGemm.run(dy, dyOff, w, wOff, g.f(), dx, dxOff); return; }
        int f = g.f();
        if (!pointwise) Arrays.fill(dx, dxOff, dxOff + g.n() * g.h() * g.w() * g.c(), 0f);
        for (int gi = 0; gi < g.groups(); gi++) {
            if (pointwise) {
                Gemm.gemm(pool, false, true, rows, cg, fg, dy, dyOff + gi * fg, f, w, wOff + gi * fg, f,
                          dx, dxOff + gi * cg, g.c(), false);
                continue;
            }
            for (int r0 = 0; r0 < rows; r0 += blockRows) {
                int nr = Math.min(blockRows, rows - r0);
                Gemm.gemm(pool, false, true, nr, kdim, fg, dy, dyOff + r0 * f + gi * fg, f, w, wOff + gi * fg, f,
                          col, 0, kdim, false);
                col2imAdd(dx, dxOff, gi, r0, nr);
            }
        }
    }

    /** dw = ∂⟨conv(x, w), dy⟩/∂w; dw is overwritten. */
    public void backwardFilter(float[] x, int xOff, float[] dy, int dyOff, float[] dw, int dwOff) {
        if (filterWinograd != null) { filterWinograd.backwardFilter(x, xOff, dy, dyOff, dw, dwOff); return; }
        if (filterGemm != null) { filterGemm.run(x, xOff, dy, dyOff, dw, dwOff); return; }
        int f = g.f();
        for (int gi = 0; gi < g.groups(); gi++) {
            if (pointwise) {
                Gemm.gemm(pool, true, false, cg, fg, rows, x, xOff + gi * cg, g.c(), dy, dyOff + gi * fg, f,
                          dw, dwOff + gi * fg, f, false);
                continue;
            }
            for (int r0 = 0; r0 < rows; r0 += blockRows) {
                int nr = Math.min(blockRows, rows - r0);
                im2col.fill(x, xOff, gi, r0, nr);
                Gemm.gemm(pool, true, false, kdim, fg, nr, col, 0, kdim, dy, dyOff + r0 * f + gi * fg, f,
                          dw, dwOff + gi * fg, f, r0 > 0);
            }
        }
    }

    // dx[pixel under (p, kh, kw), group gi's channels] += dcol[p - r0, (kh·KW + kw)·Cg ..]; serial, as windows overlap
    private void col2imAdd(float[] dx, int dxOff, int gi, int r0, int nr) {
        int ohw = g.oh() * g.ow();
        for (int rr = 0; rr < nr; rr++) {
            int p = r0 + rr, n = p / ohw, rem = p - n * ohw, oh = rem / g.ow(), ow = rem - oh * g.ow();
            for (int kh = 0; kh < g.kh(); kh++) {
                int ih = oh * g.strideH() - g.padTop() + kh * g.dilationH();
                if (ih < 0 || ih >= g.h()) continue;
                for (int kw = 0; kw < g.kw(); kw++) {
                    int iw = ow * g.strideW() - g.padLeft() + kw * g.dilationW();
                    if (iw < 0 || iw >= g.w()) continue;
                    int src = rr * kdim + (kh * g.kw() + kw) * cg;
                    int dst = dxOff + ((n * g.h() + ih) * g.w() + iw) * g.c() + gi * cg;
                    for (int ci = 0; ci < cg; ci++) dx[dst + ci] += col[src + ci];
                }
            }
        }
    }

    /** Fills col's rows [0, nr) for output pixels [r0, r0 + nr) of group gi; rows are independent, so in parallel. */
    private final class Im2col implements WorkerPool.RangeTask {
        private float[] x;
        private int xOff, gi, r0;

        void fill(float[] x, int xOff, int gi, int r0, int nr) {
            this.x = x;
            this.xOff = xOff;
            this.gi = gi;
            this.r0 = r0;
            try {
                if ((long) nr * kdim < 1 << 14) run(0, nr);
                else pool.parallelFor(nr, this);
            } finally {
                this.x = null;
            }
        }

        @Override public void run(int from, int to) {
            int ohw = g.oh() * g.ow();
            for (int rr = from; rr < to; rr++) {
                int p = r0 + rr, n = p / ohw, rem = p - n * ohw, oh = rem / g.ow(), ow = rem - oh * g.ow();
                for (int kh = 0; kh < g.kh(); kh++) {
                    int ih = oh * g.strideH() - g.padTop() + kh * g.dilationH();
                    int dst = rr * kdim + kh * g.kw() * cg;
                    if (ih < 0 || ih >= g.h()) {
                        Arrays.fill(col, dst, dst + g.kw() * cg, 0f);
                        continue;
                    }
                    for (int kw = 0; kw < g.kw(); kw++, dst += cg) {
                        int iw = ow * g.strideW() - g.padLeft() + kw * g.dilationW();
                        if (iw < 0 || iw >= g.w()) Arrays.fill(col, dst, dst + cg, 0f);
                        else System.arraycopy(x, xOff + ((n * g.h() + ih) * g.w() + iw) * g.c() + gi * cg, col, dst, cg);
                    }
                }
            }
        }
    }
}
