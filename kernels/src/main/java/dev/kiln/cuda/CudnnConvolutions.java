package dev.kiln.cuda;

import dev.kiln.cuda.ConvAlgorithms.Choice;
import dev.kiln.cuda.ConvAlgorithms.Key;
import dev.kiln.cuda.ConvAlgorithms.Pass;
import dev.kiln.cuda.ConvAlgorithms.Perf;
import dev.kiln.cuda.ffi.Cudnn;
import dev.kiln.cuda.ffi.CudnnLibrary;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Convolution passes through cuDNN 9 ({@link CudnnLibrary}) on one device: descriptors made once per geometry
 * ({@link CudnnConvPlan}), the algorithm chosen once per shape ({@link ConvAlgorithms}: measured with cudnnFind* unless
 * -Dkiln.cudnn.autotune=off, then by the _v7 heuristics; deterministic ones only), the filter moved between Kiln's
 * HWIO and cuDNN's KRSC in the program's {@link ConvWorkspace}, and exact f32 math (CUDNN_FMA_MATH: no TF32) so that
 * results stay within float rounding of the CPU backend. Each pass is one {@link Launch.Library}. A shape with no
 * deterministic algorithm in the workspace limit returns empty, and the lowering uses Kiln's own kernels.
 *
 * <p><b>Unverified on hardware</b>: this class has not run against a real cuDNN (no GPU where it was written; the
 * emulated device has no cuDNN). Its pure parts (descriptor numbers, the cache, the algorithm pick, the route) are
 * unit-tested, and every pass runs end to end against a host stand-in for libcudnn written from cuDNN's documentation
 * (CudnnConvolutionsOnAFakeTest); real cuDNN's behaviour awaits the GPU machine's run.
 */
final class CudnnConvolutions {
    /** The most workspace one convolution's algorithm may take. */
    static final long WORKSPACE_LIMIT = 1L << 30;
    static final String AUTOTUNE = "kiln.cudnn.autotune";
    private static final int CANDIDATES = 16;

    private final CudnnLibrary dnn;
    private final long handle;
    private final boolean measure;
    private final int mathType = Cudnn.CUDNN_FMA_MATH;
    private final ConvAlgorithms algorithms;
    private final MemorySegment records = CudnnLibrary.perfRecords(Arena.global(), CANDIDATES);
    private final Map<ConvGeometry, Descriptors> descriptors = new HashMap<>();
    private final long relu, sigmoid, tanh;
    private long stream = -1;
    private CudnnLayers layers;

    /** @param measure autotune: cudnnFind* (measured runs) rather than the _v7 heuristics */
    CudnnConvolutions(CudnnLibrary dnn, boolean measure) {
        this.dnn = dnn;
        this.handle = dnn.create();
        this.measure = measure;
        this.algorithms = new ConvAlgorithms(WORKSPACE_LIMIT, measure ? "measured" : "heuristic");
        this.relu = dnn.activation(Cudnn.CUDNN_ACTIVATION_RELU);
        this.sigmoid = dnn.activation(Cudnn.CUDNN_ACTIVATION_SIGMOID);
        this.tanh = dnn.activation(Cudnn.CUDNN_ACTIVATION_TANH);
    }

    /** Destroys the cuDNN handle (with its device's context, {@link CudaDevice#close}); the descriptors are host memory, left to the process. */
    void close() { dnn.destroy(handle); }

    /** cuDNN on the current context, or empty where libcudnn.so.9 does not load or -Dkiln.cudnn=off. */
    static Optional<CudnnConvolutions> open(Arena arena) {
        if (!ConvRoute.enabled()) return Optional.empty();
        Optional<CudnnLibrary> dnn = CudnnLibrary.load(arena);
        if (dnn.isEmpty()) return Optional.empty();
        try {
            return Optional.of(new CudnnConvolutions(dnn.get(), !"off".equals(System.getProperty(AUTOTUNE))));
        } catch (CudaException | IllegalStateException unusable) {
            System.err.println("kiln-cuda: libcudnn.so.9 loaded but did not start (" + unusable.getMessage()
                    + "); convolutions run on Kiln's own kernels (set -D" + ConvRoute.PROPERTY + "=off to skip cuDNN)");
            return Optional.empty();
        }
    }

    /** The descriptors of one geometry: x, y, the KRSC filter, the filter's HWIO and KRSC views, the convolution, the bias. */
    private record Descriptors(long x, long y, long filter, long hwio, long krsc, long conv, long bias) {}

    private synchronized Descriptors descriptors(CudnnConvPlan p) {
        return descriptors.computeIfAbsent(p.g(), g -> {
            int[] in = p.input(), out = p.output(), f = p.filter(), c = p.convolution(), b = p.bias();
            return new Descriptors(dnn.tensorNhwc(in[0], in[1], in[2], in[3]), dnn.tensorNhwc(out[0], out[1], out[2], out[3]),
                    dnn.filterNhwc(f[0], f[1], f[2], f[3]), dnn.tensorStrided(f, p.hwioStrides()), dnn.tensorStrided(f, p.krscStrides()),
                    dnn.convolution(c[0], c[1], c[2], c[3], c[4], c[5], g.groups(), mathType), dnn.tensorNhwc(b[0], b[1], b[2], b[3]));
        });
    }

    /** A pass ready to run: its descriptors, algorithm, workspace bytes and their offset in the program's workspace. */
    private record Prepared(Descriptors d, int algo, long bytes, long offset) {}

    /** Descriptors, the cached (or newly found) algorithm and its workspace for one pass; empty when cuDNN has none that fits. */
    private Optional<Prepared> prepare(Pass pass, ConvGeometry g, ConvWorkspace ws) {
        CudnnConvPlan plan = new CudnnConvPlan(g);
        Descriptors d = descriptors(plan);
        // each call takes three descriptors around the convolution's, in this order
        String what = switch (pass) { case FORWARD -> "Forward"; case BACKWARD_DATA -> "BackwardData"; case BACKWARD_FILTER -> "BackwardFilter"; };
        long[] in = switch (pass) {
            case FORWARD -> new long[] {d.x, d.filter, d.y};
            case BACKWARD_DATA -> new long[] {d.filter, d.y, d.x};
            case BACKWARD_FILTER -> new long[] {d.x, d.y, d.filter};
        };
        String find = measure ? "cudnnFindConvolution" + what + "Algorithm" : "cudnnGetConvolution" + what + "Algorithm_v7";
        Optional<Choice> c = algorithms.choose(new Key(pass, g, mathType),
                k -> Perf.readAll(records, dnn.algorithms(find, records, handle, in[0], in[1], d.conv, in[2])));
        if (c.isEmpty()) return Optional.empty();
        int algo = c.get().algo();
        long bytes = dnn.workspaceSize("cudnnGetConvolution" + what + "WorkspaceSize", handle, in[0], in[1], d.conv, in[2], algo);
        return Optional.of(new Prepared(d, algo, bytes, ws.require(plan.filterBytes(), bytes)));
    }

    /** y = act(conv(x, w) + bias) ({@code bias} 0: the plain convolution), or empty for Kiln's own kernels. */
    Optional<Launch> forward(ConvGeometry g, Epilogue.Activation act, long x, long w, long bias, long y, ConvWorkspace ws) {
        boolean fused = bias != 0 && act == Epilogue.Activation.RELU;
        long after = switch (act) {
            case SIGMOID -> sigmoid;
            case TANH -> tanh;
            case NONE, RELU -> 0;
        };
        return prepare(Pass.FORWARD, g, ws).map(p -> {
            Descriptors d = p.d();
            String name = fused ? "cudnnConvolutionBiasActivationForward" : "cudnnConvolutionForward";
            return new Launch.Library(name + "(algo " + p.algo() + ")", s -> {
                long filter = on(s, ws), scratch = filter + p.offset();
                dnn.transform(handle, d.hwio, w, d.krsc, filter);
                if (fused) {
                    dnn.convolutionBiasActivationForward(handle, d.x, x, d.filter, filter, d.conv, p.algo(), scratch, p.bytes(), d.bias, bias, relu, d.y, y);
                    return;
                }
                dnn.convolutionForward(handle, d.x, x, d.filter, filter, d.conv, p.algo(), scratch, p.bytes(), d.y, y);
                if (bias != 0) dnn.addTensor(handle, d.bias, bias, d.y, y);
                if (after != 0) dnn.activationForward(handle, after, d.y, y);
            });
        });
    }

    /** dx = convᵀ(dy, w), or empty for Kiln's own kernels. */
    Optional<Launch> backwardData(ConvGeometry g, long dy, long w, long dx, ConvWorkspace ws) {
        return prepare(Pass.BACKWARD_DATA, g, ws).map(p -> new Launch.Library("cudnnConvolutionBackwardData(algo " + p.algo() + ")", s -> {
            Descriptors d = p.d();
            long filter = on(s, ws);
            dnn.transform(handle, d.hwio, w, d.krsc, filter);
            dnn.convolutionBackwardData(handle, d.filter, filter, d.y, dy, d.conv, p.algo(), filter + p.offset(), p.bytes(), d.x, dx);
        }));
    }

    /** dw of the convolution given x and dy, or empty for Kiln's own kernels. */
    Optional<Launch> backwardFilter(ConvGeometry g, long x, long dy, long dw, ConvWorkspace ws) {
        return prepare(Pass.BACKWARD_FILTER, g, ws).map(p -> new Launch.Library("cudnnConvolutionBackwardFilter(algo " + p.algo() + ")", s -> {
            Descriptors d = p.d();
            long filter = on(s, ws);
            dnn.convolutionBackwardFilter(handle, d.x, x, d.y, dy, d.conv, p.algo(), filter + p.offset(), p.bytes(), d.filter, filter);
            dnn.transform(handle, d.krsc, filter, d.hwio, dw);
        }));
    }

    /** Shapes cuDNN was asked about (the autotune cache's misses). */
    int shapesTuned() { return algorithms.asked(); }

    /** Puts the handle on stream {@code s}; returns the workspace's address (the filter in cuDNN's layout goes first). */
    private long on(long s, ConvWorkspace ws) {
        onStream(s);
        return ws.address();
    }

    /** Puts the handle on stream {@code s} (a no-op when it is there already). */
    synchronized void onStream(long s) {
        if (s != stream) {
            dnn.setStream(handle, s);
            stream = s;
        }
    }

    /** Pooling, softmax and batch norm through the same library and handle, made on first use. */
    synchronized CudnnLayers layers() {
        if (layers == null) layers = new CudnnLayers(dnn, handle, this::onStream);
        return layers;
    }
}
