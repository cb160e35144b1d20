package dev.kiln.cuda;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The launches of one program's convolution passes: through cuDNN where {@link ConvRoute} sends them and cuDNN has a
 * deterministic algorithm for the shape, else Kiln's own kernels ({@link ConvKernels}), which is every pass on the
 * emulated device. Collects the program's {@link ConvWorkspace} need and each pass's route with its reason.
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

    /** Kiln's own kernels (pooling always runs there: a memory-bound pass that cuDNN would not speed up much). */
    ConvKernels own() { return own; }

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
