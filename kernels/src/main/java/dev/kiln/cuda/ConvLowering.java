package dev.kiln.cuda;

import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Pool2d;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The launches of one program's convolution passes: through cuDNN where {@link ConvRoute} sends them and cuDNN has a
 * deterministic algorithm for the shape, else Kiln's own kernels ({@link ConvKernels}), which is every pass on the
 * emulated device. Pooling, softmax and batch norm go the same way ({@link CudnnLayers} or the caller's own kernel).
 * Collects the program's {@link ConvWorkspace} need and each pass's route with its reason.
 */
final class ConvLowering {
    private final ConvKernels own;
    private final Optional<CudnnConvolutions> cudnn;
    final ConvWorkspace workspace = new ConvWorkspace();
    /** "forward [geometry]: own kernels (reason)", one per convolution pass, in lowering order. */
    final List<String> routes = new ArrayList<>();

    ConvLowering(CudaDevice device) {
        this.own = new ConvKernels(device);
        this.cudnn = device.cudnn();
    }

    /** y = pool(x): cuDNN where it can express the window ({@link CudnnLayers#poolMisfit}), else the own kernel. */
    Launch pool(Pool2d p, ConvGeometry g, long x, long y, CudaDriver.Dim3 grid) {
        return layer(p.name() + " " + g, CudnnLayers.poolMisfit(g), dnn -> dnn.pool(p, g, x, y), () -> own.pool(p, g, x, y, grid));
    }

    /** dx of {@link #pool}. */
    Launch poolGrad(Pool2d p, ConvGeometry g, long x, long dy, long dx, CudaDriver.Dim3 grid) {
        return layer(p.name() + " backward " + g, CudnnLayers.poolMisfit(g), dnn -> dnn.poolGrad(p, g, x, dy, dx, workspace), () -> own.poolGrad(p, g, x, dy, dx, grid));
    }

    /** Softmax (or log-softmax) over rows: cuDNN, else {@code viaOwn} (the generated kernel). */
    Launch softmax(boolean log, long rows, int cols, long x, long y, Supplier<Launch> viaOwn) {
        return layer((log ? "log_softmax [" : "softmax [") + rows + ", " + cols + "]", null, dnn -> dnn.softmax(log, rows, cols, x, y), viaOwn);
    }

    /** Batch norm with given statistics: cuDNN, else {@code viaOwn} (Kiln's batch-norm kernel). */
    Launch batchNorm(double epsilon, long rows, int channels, long[] in, long y, Supplier<Launch> viaOwn) {
        return layer("batch_norm [" + rows + ", " + channels + "]", null,
                dnn -> dnn.batchNorm(epsilon, rows, channels, in[0], in[1], in[2], in[3], in[4], y), viaOwn);
    }

    /** dx of a training batch norm (BatchNormGrad; inputs x, dy, mean, var, gamma): cuDNN, else {@code viaOwn} (kiln_batchnorm_backward_f32). */
    Launch batchNormGrad(double epsilon, long rows, int channels, long[] in, long dx, Supplier<Launch> viaOwn) {
        return layer("batch_norm_grad [" + rows + ", " + channels + "]", null,
                dnn -> dnn.batchNormGrad(epsilon, rows, channels, in[0], in[1], in[4], dx, workspace), viaOwn);
    }

    /** cuDNN's layer where it is loaded and {@code misfit} is null, else {@code viaOwn}; records the route. */
    private Launch layer(String what, String misfit, Function<CudnnLayers, Launch> viaCudnn, Supplier<Launch> viaOwn) {
        String why = cudnn.isEmpty() ? "cuDNN 9 is not loaded (libcudnn.so.9 not found, -D" + ConvRoute.PROPERTY + "=off, or the emulated device)"
                : misfit != null ? "cuDNN cannot express it: " + misfit : null;
        if (why == null) {
            routes.add(what + ": cuDNN 9");
            return viaCudnn.apply(cudnn.get().layers());
        }
        routes.add(what + ": own kernels (" + why + ")");
        return viaOwn.get();
    }

    /** One pass of the own kernels over two operands' device addresses (16-bit copies, in {@link #half}). */
    interface HalfPass { Launch on(ConvKernels kernels, long a, long b); }

    /**
     * A pass over 16-bit operand copies ({@link HalfOperands}): the own kernels' {@code format} twins, never cuDNN (its
     * half-precision convolutions are not planned: the plan covers convolutions only where cuDNN is not loaded).
     */
    Launch half(String format, String pass, ConvGeometry g, HalfPass viaOwn, long a, long b) {
        routes.add(pass + " " + g + ": own kernels (" + format + " operands)");
        return viaOwn.on(own.reading(format), a, b);
    }

    Launch forward(ConvGeometry g, Epilogue.Activation act, long x, long w, long bias, long y) {
        return route("forward", g, dnn -> dnn.forward(g, act, x, w, bias, y, workspace), () -> own.forward(g, act, x, w, bias, y));
    }

    Launch backwardData(ConvGeometry g, long dy, long w, long dx) {
        return route("backward data", g, dnn -> dnn.backwardData(g, dy, w, dx, workspace), () -> own.backwardData(g, dy, w, dx));
    }

    Launch backwardFilter(ConvGeometry g, long x, long dy, long dw) {
        return route("backward filter", g, dnn -> dnn.backwardFilter(g, x, dy, dw, workspace), () -> own.backwardFilter(g, x, dy, dw));
    }

    private Launch route(String pass, ConvGeometry g, Function<CudnnConvolutions, Optional<Launch>> viaCudnn, Supplier<Launch> viaOwn) {
        ConvRoute r = ConvRoute.choose(g, cudnn.isPresent());
        if (r.cudnn()) {
            Optional<Launch> l = viaCudnn.apply(cudnn.get());
            if (l.isPresent()) {
                routes.add(pass + " " + g + ": " + r.reason());
                return l.get();
            }
            r = new ConvRoute(false, "cuDNN has no deterministic algorithm for it within " + (CudnnConvolutions.WORKSPACE_LIMIT >> 20) + " MiB of workspace");
        }
        routes.add(pass + " " + g + ": own kernels (" + r.reason() + ")");
        return viaOwn.get();
    }
}
