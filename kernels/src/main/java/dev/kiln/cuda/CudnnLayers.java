package dev.kiln.cuda;

import dev.kiln.cuda.ffi.Cudnn;
import dev.kiln.cuda.ffi.CudnnLibrary;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Pool2d;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Pooling (forward and backward), softmax and batch norm (forward, and backward in training) through cuDNN 9
 * ({@link CudnnLibrary}), NHWC f32, on the handle of the device's {@link CudnnConvolutions}: each a
 * {@link Launch.Library} whose descriptors are made once, at lowering. {@link ConvLowering} routes each op here where cuDNN is loaded and can express it ({@link #poolMisfit}),
 * else to Kiln's own kernels (always on the emulated device, and with -Dkiln.cudnn=off).
 *
 * <ul>
 *   <li>Pooling: max as CUDNN_POOLING_MAX_DETERMINISTIC, average as CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING (Kiln
 *       divides by the in-bounds count). cuDNN pads symmetrically, so a geometry whose top/left padding gives another
 *       output size than Kiln's (SAME with more padding at the bottom than fits) stays on the own kernels. The
 *       backward pass needs the forward's output: it is recomputed into the program's convolution workspace.</li>
 *   <li>Softmax and log-softmax over the last axis: rows as cuDNN instances [rows, cols, 1, 1], CUDNN_SOFTMAX_ACCURATE
 *       or CUDNN_SOFTMAX_LOG. Its gradient stays in the graph (Kiln differentiates softmax into elementwise ops).</li>
 *   <li>Batch norm forward: Kiln's BatchNorm takes its statistics as inputs, which is cuDNN's inference form,
 *       cudnnBatchNormalizationForwardInference, spatial mode over [rows, C, 1, 1]; in training the inputs are the
 *       graph's batch statistics (two reductions of x), which makes it numerically the training forward.
 *       cudnnBatchNormalizationForwardTraining does not fit Kiln's graph: it has three results (y, saved mean, saved
 *       inverse deviation) where a Kiln node has one, and it moves the running variance towards the unbiased
 *       Σ(x - mean)² / (m - 1), where BatchNormalization's moving average (separate assign ops, Keras 3's convention)
 *       uses the biased variance the normalisation uses; so the statistics stay graph reductions.</li>
 *   <li>Batch norm backward in training ({@link dev.kiln.graph.BatchNormGrad}, dx through the batch statistics, the
 *       op a BatchNorm with batchStatistics differentiates into): cudnnBatchNormalizationBackward, spatial mode, with
 *       saved mean and inverse variance NULL, so cuDNN recomputes the statistics from x (one more read of x; they equal
 *       the graph's mean and var, which are x's own by BatchNorm's contract, and cuDNN gets the same epsilon). Its
 *       scale and bias gradients go to the program's workspace and are dropped: dgamma and dbeta stay reductions in the
 *       graph, since a node has one output. Without cuDNN: Kiln's kiln_batchnorm_backward_f32 (batchnorm.cu), with
 *       dgamma and dbeta null. CUDA's passes (batch_norm_grad_of_centered) give the op x - mean and a zero mean for x
 *       and mean, so x dies after the forward pass: cuDNN then recomputes a mean of 0 and the same variance, up to
 *       rounding, and so the same dx up to rounding (dx depends on x only through x - mean).</li>
 * </ul>
 *
 * <p><b>Unverified on hardware</b>, like the convolutions: checked only against the documented-semantics stand-in
 * (fake_cudnn.c, CudnnLayersOnAFakeTest), the batch-norm backward included. Max pooling's value agrees with the own kernel's; where a window holds
 * several equal maxima, which one real cuDNN sends the gradient to is not documented (Kiln's kernel picks the first).
 */
final class CudnnLayers {
    private final CudnnLibrary dnn;
    private final long handle;
    private final LongConsumer onStream;
    private final Map<String, Long> tensors = new HashMap<>(), pools = new HashMap<>();

    CudnnLayers(CudnnLibrary dnn, long handle, LongConsumer onStream) {
        this.dnn = dnn;
        this.handle = handle;
        this.onStream = onStream;
    }

    /** Why cuDNN cannot pool as Kiln defines the window, or null when it can. */
    static String poolMisfit(ConvGeometry g) {
        if (g.padTop() >= g.kh() || g.padLeft() >= g.kw()) return "padding " + g.padTop() + "x" + g.padLeft() + " not smaller than the window " + g.kh() + "x" + g.kw();
        int oh = (g.h() + 2 * g.padTop() - g.kh()) / g.strideH() + 1, ow = (g.w() + 2 * g.padLeft() - g.kw()) / g.strideW() + 1;
        if (oh != g.oh() || ow != g.ow()) return "its symmetric padding gives " + oh + "x" + ow + " outputs where Kiln's gives " + g.oh() + "x" + g.ow();
        return null;
    }

    /** y = pool(x). */
    Launch pool(Pool2d p, ConvGeometry g, long x, long y) {
        long pd = pooling(p, g), xd = nhwc(g.n(), g.c(), g.h(), g.w()), yd = nhwc(g.n(), g.c(), g.oh(), g.ow());
        return new Launch.Library("cudnnPoolingForward(" + p.kind() + ")", s -> {
            onStream.accept(s);
            dnn.poolingForward(handle, pd, xd, x, yd, y);
        });
    }

    /** dx of {@link #pool} given x and dy; the forward's y is recomputed into {@code ws} (its need recorded now). */
    Launch poolGrad(Pool2d p, ConvGeometry g, long x, long dy, long dx, ConvWorkspace ws) {
        long pd = pooling(p, g), xd = nhwc(g.n(), g.c(), g.h(), g.w()), yd = nhwc(g.n(), g.c(), g.oh(), g.ow());
        ws.require(0, 4L * g.n() * g.oh() * g.ow() * g.c());
        return new Launch.Library("cudnnPoolingBackward(" + p.kind() + ")", s -> {
            onStream.accept(s);
            long y = ws.address();
            dnn.poolingForward(handle, pd, xd, x, yd, y);
            dnn.poolingBackward(handle, pd, yd, y, dy, xd, x, dx);
        });
    }

    /** y = softmax (or log-softmax) of each of {@code rows} rows of {@code cols}. */
    Launch softmax(boolean log, long rows, int cols, long x, long y) {
        long xd = nhwc(Math.toIntExact(rows), cols, 1, 1);
        int algo = log ? Cudnn.CUDNN_SOFTMAX_LOG : Cudnn.CUDNN_SOFTMAX_ACCURATE;
        return new Launch.Library(log ? "cudnnSoftmaxForward(log)" : "cudnnSoftmaxForward", s -> {
            onStream.accept(s);
            dnn.softmaxForward(handle, algo, xd, x, y);
        });
    }

    /** y = (x - mean) / sqrt(var + epsilon) · gamma + beta over {@code rows} rows of {@code channels}. */
    Launch batchNorm(double epsilon, long rows, int channels, long x, long mean, long var, long gamma, long beta, long y) {
        long xd = nhwc(Math.toIntExact(rows), channels, 1, 1), stats = nhwc(1, channels, 1, 1);
        return new Launch.Library("cudnnBatchNormalizationForwardInference", s -> {
            onStream.accept(s);
            dnn.batchNormInference(handle, xd, x, stats, gamma, beta, mean, var, epsilon, y);
        });
    }

    /**
     * dx of a training batch norm over {@code rows} rows of {@code channels} (BatchNormGrad): cudnnBatchNormalizationBackward
     * with saved mean and inverse variance NULL, so cuDNN recomputes the batch statistics from x (equal to the graph's
     * mean and var, which are x's own by BatchNorm's batchStatistics contract). Its scale and bias gradients go to the
     * workspace and are dropped: the graph computes them as reductions of their own.
     */
    Launch batchNormGrad(double epsilon, long rows, int channels, long x, long dy, long gamma, long dx, ConvWorkspace ws) {
        long xd = nhwc(Math.toIntExact(rows), channels, 1, 1), stats = nhwc(1, channels, 1, 1);
        ws.require(0, 8L * channels);
        return new Launch.Library("cudnnBatchNormalizationBackward", s -> {
            onStream.accept(s);
            long scratch = ws.address();
            dnn.batchNormBackward(handle, xd, x, dy, dx, stats, gamma, scratch, scratch + 4L * channels, epsilon);
        });
    }

    private synchronized long nhwc(int n, int c, int h, int w) {
        return tensors.computeIfAbsent(n + "," + c + "," + h + "," + w, k -> dnn.tensorNhwc(n, c, h, w));
    }

    private synchronized long pooling(Pool2d p, ConvGeometry g) {
        int mode = p.kind() == Pool2d.Kind.MAX ? Cudnn.CUDNN_POOLING_MAX_DETERMINISTIC : Cudnn.CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
        String key = mode + "," + g.kh() + "," + g.kw() + "," + g.padTop() + "," + g.padLeft() + "," + g.strideH() + "," + g.strideW();
        return pools.computeIfAbsent(key, k -> dnn.pooling(mode, g.kh(), g.kw(), g.padTop(), g.padLeft(), g.strideH(), g.strideW()));
    }
}
