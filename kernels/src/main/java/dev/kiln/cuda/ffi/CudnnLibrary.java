package dev.kiln.cuda.ffi;

import dev.kiln.cuda.CudaException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuDNN 9's legacy descriptor API through {@link CudaApis#CUDNN}, as much as Kiln's NHWC f32 convolutions need:
 * a handle, tensor, filter, convolution and activation descriptors, the algorithm heuristics ({@code _v7}) and
 * measurements ({@code Find}), workspace sizes, and the forward (plain and with fused bias + activation), backward-data,
 * backward-filter, add-tensor, activation and transform-tensor calls, and pooling (forward, backward), softmax and
 * batch norm (the inference form, statistics given, and the training backward) for {@code CudnnLayers}. Descriptors and device pointers are passed as
 * addresses ({@code long}); every failure throws {@link CudaException} with cudnnGetErrorString.
 *
 * <p><b>Unverified on hardware.</b> The prototypes are checked against cuDNN 9's declarations
 * (CudaLibraryDeclarationsTest), but no call here has run against the real library: the machine this was written on
 * has no GPU and no libcudnn.so.9, and the emulated device has no cuDNN. They run against a host stand-in written from
 * cuDNN's documentation (CudnnConvolutionsOnAFakeTest), which checks Kiln's side of each call. The calls box their
 * arguments ({@link CFunctions.Bound#invoke}); a step is meant to be replayed as a CUDA graph, where that cost is paid
 * once, at capture.
 *
 * <pre>{@code
 * CudnnLibrary dnn = CudnnLibrary.load(Arena.global()).orElseThrow();
 * long handle = dnn.create();
 * }</pre>
 */
public final class CudnnLibrary {
    private final CFunctions.Bound lib;
    /** alpha = 1 and beta = 0 or 1, as host floats: cuDNN reads them through pointers. */
    private final MemorySegment one, zero;

    private CudnnLibrary(CFunctions.Bound lib) {
        this.lib = lib;
        this.one = Arena.global().allocateFrom(JAVA_FLOAT, 1f);
        this.zero = Arena.global().allocateFrom(JAVA_FLOAT, 0f);
    }

    /** libcudnn.so.9 when it loads (the loader's path, the toolkit's folders, pip's nvidia-cudnn wheels), else empty. */
    public static Optional<CudnnLibrary> load(Arena arena) {
        return SharedLibrary.find(CudaApis.CUDNN_SONAMES, arena).library().map(CudnnLibrary::bind);
    }

    /** The binding over an already loaded library (a test's stand-in, or one found elsewhere). */
    public static CudnnLibrary bind(SharedLibrary libcudnn) { return new CudnnLibrary(CudaApis.CUDNN.bind(libcudnn)); }

    public long version() { return (long) lib.invoke("cudnnGetVersion"); }

    public long create() { return out("cudnnCreate"); }

    public void destroy(long handle) { check(lib.status("cudnnDestroy", seg(handle)), "cudnnDestroy"); }

    public void setStream(long handle, long stream) { check(lib.status("cudnnSetStream", seg(handle), seg(stream)), "cudnnSetStream"); }

    // ---- descriptors (made once per convolution, at compile time; they live as long as the process)

    /** A 4-D f32 tensor in NHWC memory order, given as cuDNN's logical (n, c, h, w). */
    public long tensorNhwc(int n, int c, int h, int w) {
        long d = out("cudnnCreateTensorDescriptor");
        check(lib.status("cudnnSetTensor4dDescriptor", seg(d), Cudnn.CUDNN_TENSOR_NHWC, Cudnn.CUDNN_DATA_FLOAT, n, c, h, w), "cudnnSetTensor4dDescriptor");
        return d;
    }

    /** An f32 tensor of any rank with explicit element strides. */
    public long tensorStrided(int[] dims, int[] strides) {
        long d = out("cudnnCreateTensorDescriptor");
        try (Arena a = Arena.ofConfined()) {
            check(lib.status("cudnnSetTensorNdDescriptor", seg(d), Cudnn.CUDNN_DATA_FLOAT, dims.length, a.allocateFrom(JAVA_INT, dims),
                    a.allocateFrom(JAVA_INT, strides)), "cudnnSetTensorNdDescriptor");
        }
        return d;
    }

    /** An f32 filter in NHWC order (KRSC: k filters, then r rows, s columns, c channels), given as (k, c, r, s). */
    public long filterNhwc(int k, int c, int r, int s) {
        long d = out("cudnnCreateFilterDescriptor");
        check(lib.status("cudnnSetFilter4dDescriptor", seg(d), Cudnn.CUDNN_DATA_FLOAT, Cudnn.CUDNN_TENSOR_NHWC, k, c, r, s), "cudnnSetFilter4dDescriptor");
        return d;
    }

    /** A cross-correlation with f32 compute, its groups and math type. */
    public long convolution(int padH, int padW, int strideH, int strideW, int dilationH, int dilationW, int groups, int mathType) {
        long d = out("cudnnCreateConvolutionDescriptor");
        check(lib.status("cudnnSetConvolution2dDescriptor", seg(d), padH, padW, strideH, strideW, dilationH, dilationW,
                Cudnn.CUDNN_CROSS_CORRELATION, Cudnn.CUDNN_DATA_FLOAT), "cudnnSetConvolution2dDescriptor");
        check(lib.status("cudnnSetConvolutionGroupCount", seg(d), groups), "cudnnSetConvolutionGroupCount");
        check(lib.status("cudnnSetConvolutionMathType", seg(d), mathType), "cudnnSetConvolutionMathType");
        return d;
    }

    public long activation(int mode) {
        long d = out("cudnnCreateActivationDescriptor");
        check(lib.status("cudnnSetActivationDescriptor", seg(d), mode, Cudnn.CUDNN_PROPAGATE_NAN, 0.0), "cudnnSetActivationDescriptor");
        return d;
    }

    // ---- algorithms: records of Cudnn.ALGO_PERF_BYTES each, best first

    /** Space for {@code count} algorithm-performance records. */
    public static MemorySegment perfRecords(Arena arena, int count) { return arena.allocate((long) Cudnn.ALGO_PERF_BYTES * count, 8); }

    /**
     * Fills {@code records} with a pass's candidates: fn is cudnnGetConvolution{Forward,BackwardData,BackwardFilter}Algorithm_v7
     * (heuristics) or cudnnFindConvolution{...}Algorithm (measured runs), descriptors in its order. Returns the count written.
     */
    public int algorithms(String fn, MemorySegment records, long handle, long a, long b, long conv, long c) {
        int capacity = (int) (records.byteSize() / Cudnn.ALGO_PERF_BYTES);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            check(lib.status(fn, seg(handle), seg(a), seg(b), seg(conv), seg(c), capacity, count, records), fn);
            return count.get(JAVA_INT, 0);
        }
    }

    /** Workspace bytes of one algorithm: fn is cudnnGetConvolution{Forward,BackwardData,BackwardFilter}WorkspaceSize, descriptors in its order. */
    public long workspaceSize(String fn, long handle, long a, long b, long conv, long c, int algo) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(JAVA_LONG);
            check(lib.status(fn, seg(handle), seg(a), seg(b), seg(conv), seg(c), algo, bytes), fn);
            return bytes.get(JAVA_LONG, 0);
        }
    }

    // ---- execution (device pointers)

    public void convolutionForward(long h, long xd, long x, long wd, long w, long conv, int algo, long ws, long wsBytes, long yd, long y) {
        check(lib.status("cudnnConvolutionForward", seg(h), one, seg(xd), seg(x), seg(wd), seg(w), seg(conv), algo, seg(ws), wsBytes,
                zero, seg(yd), seg(y)), "cudnnConvolutionForward");
    }

    /** y = act(conv(x, w) + bias) in one call (y also serves as the z input, scaled by 0). */
    public void convolutionBiasActivationForward(long h, long xd, long x, long wd, long w, long conv, int algo, long ws, long wsBytes,
                                                 long biasDesc, long bias, long act, long yd, long y) {
        check(lib.status("cudnnConvolutionBiasActivationForward", seg(h), one, seg(xd), seg(x), seg(wd), seg(w), seg(conv), algo, seg(ws), wsBytes,
                zero, seg(yd), seg(y), seg(biasDesc), seg(bias), seg(act), seg(yd), seg(y)), "cudnnConvolutionBiasActivationForward");
    }

    /** c += a, broadcasting a (a bias [1, F, 1, 1]) over c. */
    public void addTensor(long h, long ad, long a, long cd, long c) {
        check(lib.status("cudnnAddTensor", seg(h), one, seg(ad), seg(a), one, seg(cd), seg(c)), "cudnnAddTensor");
    }

    /** y = act(y), in place. */
    public void activationForward(long h, long act, long yd, long y) {
        check(lib.status("cudnnActivationForward", seg(h), seg(act), one, seg(yd), seg(y), zero, seg(yd), seg(y)), "cudnnActivationForward");
    }

    public void convolutionBackwardData(long h, long wd, long w, long dyd, long dy, long conv, int algo, long ws, long wsBytes, long dxd, long dx) {
        check(lib.status("cudnnConvolutionBackwardData", seg(h), one, seg(wd), seg(w), seg(dyd), seg(dy), seg(conv), algo, seg(ws), wsBytes,
                zero, seg(dxd), seg(dx)), "cudnnConvolutionBackwardData");
    }

    public void convolutionBackwardFilter(long h, long xd, long x, long dyd, long dy, long conv, int algo, long ws, long wsBytes, long dwd, long dw) {
        check(lib.status("cudnnConvolutionBackwardFilter", seg(h), one, seg(xd), seg(x), seg(dyd), seg(dy), seg(conv), algo, seg(ws), wsBytes,
                zero, seg(dwd), seg(dw)), "cudnnConvolutionBackwardFilter");
    }

    /** A 2-D pooling: mode (Cudnn.CUDNN_POOLING_*), window, symmetric padding and strides; NaN propagates. */
    public long pooling(int mode, int windowH, int windowW, int padH, int padW, int strideH, int strideW) {
        long d = out("cudnnCreatePoolingDescriptor");
        check(lib.status("cudnnSetPooling2dDescriptor", seg(d), mode, Cudnn.CUDNN_PROPAGATE_NAN, windowH, windowW, padH, padW, strideH, strideW),
                "cudnnSetPooling2dDescriptor");
        return d;
    }

    public void poolingForward(long h, long pool, long xd, long x, long yd, long y) {
        check(lib.status("cudnnPoolingForward", seg(h), seg(pool), one, seg(xd), seg(x), zero, seg(yd), seg(y)), "cudnnPoolingForward");
    }

    /** dx of the pooling, given its y (the forward's output), dy and x. */
    public void poolingBackward(long h, long pool, long yd, long y, long dy, long xd, long x, long dx) {
        check(lib.status("cudnnPoolingBackward", seg(h), seg(pool), one, seg(yd), seg(y), seg(yd), seg(dy), seg(xd), seg(x), zero, seg(xd), seg(dx)),
                "cudnnPoolingBackward");
    }

    /** y = softmax (or log-softmax: algo Cudnn.CUDNN_SOFTMAX_LOG) of x over each instance's c·h·w values. */
    public void softmaxForward(long h, int algo, long xd, long x, long y) {
        check(lib.status("cudnnSoftmaxForward", seg(h), algo, Cudnn.CUDNN_SOFTMAX_MODE_INSTANCE, one, seg(xd), seg(x), zero, seg(xd), seg(y)),
                "cudnnSoftmaxForward");
    }

    /** y = (x - mean) / sqrt(var + epsilon) · gamma + beta per channel, statistics given (cuDNN's inference form, spatial mode). */
    public void batchNormInference(long h, long xd, long x, long statsDesc, long gamma, long beta, long mean, long var, double epsilon, long y) {
        check(lib.status("cudnnBatchNormalizationForwardInference", seg(h), Cudnn.CUDNN_BATCHNORM_SPATIAL, one, zero, seg(xd), seg(x), seg(xd), seg(y),
                seg(statsDesc), seg(gamma), seg(beta), seg(mean), seg(var), epsilon), "cudnnBatchNormalizationForwardInference");
    }

    /**
     * Training batch norm's backward, spatial mode: dx (and the scale's and bias's gradients into {@code dScale},
     * {@code dBias}) through the batch statistics of x. Saved mean and inverse variance are passed as NULL, so cuDNN
     * recomputes them from x with {@code epsilon}.
     */
    public void batchNormBackward(long h, long xd, long x, long dy, long dx, long statsDesc, long gamma, long dScale, long dBias, double epsilon) {
        check(lib.status("cudnnBatchNormalizationBackward", seg(h), Cudnn.CUDNN_BATCHNORM_SPATIAL, one, zero, one, zero, seg(xd), seg(x), seg(xd), seg(dy),
                seg(xd), seg(dx), seg(statsDesc), seg(gamma), seg(dScale), seg(dBias), epsilon, MemorySegment.NULL, MemorySegment.NULL), "cudnnBatchNormalizationBackward");
    }

    /** dst = src between two layouts of the same logical tensor (the filter's HWIO and cuDNN's KRSC). */
    public void transform(long h, long srcDesc, long src, long dstDesc, long dst) {
        check(lib.status("cudnnTransformTensor", seg(h), one, seg(srcDesc), seg(src), zero, seg(dstDesc), seg(dst)), "cudnnTransformTensor");
    }

    private long out(String create) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(lib.status(create, out), create);
            return out.get(ADDRESS, 0).address();
        }
    }

    private static MemorySegment seg(long address) { return MemorySegment.ofAddress(address); }

    /** Throws {@link CudaException} with cuDNN's text unless {@code status} is CUDNN_STATUS_SUCCESS. */
    public void check(int status, String call) {
        if (status == Cudnn.CUDNN_STATUS_SUCCESS) return;
        MemorySegment text = lib.has("cudnnGetErrorString") ? lib.pointer("cudnnGetErrorString", status) : MemorySegment.NULL;
        String s = text.equals(MemorySegment.NULL) ? "cuDNN status " + status : text.reinterpret(4096).getString(0);
        throw new CudaException(call, status, s, "see the cuDNN 9 API reference for " + call);
    }
}
