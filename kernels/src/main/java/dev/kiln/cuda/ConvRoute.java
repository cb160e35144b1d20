package dev.kiln.cuda;

import dev.kiln.graph.ConvGeometry;

/**
 * Which implementation runs one convolution pass, and why: cuDNN where it is loaded and can express the geometry
 * exactly, otherwise Kiln's own implicit-GEMM kernels ({@link ConvKernels}), which run everywhere, including the
 * emulated device. A pure decision, so the reasons are unit-tested without cuDNN; the lowering asks it once per
 * convolution and falls back to the own kernels as well when cuDNN offers no deterministic algorithm for the shape.
 *
 * <pre>{@code
 * ConvRoute r = ConvRoute.choose(g, device.cudnn().isPresent());
 * if (!r.cudnn()) System.out.println(r.reason());
 * }</pre>
 */
record ConvRoute(boolean cudnn, String reason) {
    /** -Dkiln.cudnn=off keeps every convolution on Kiln's own kernels even where cuDNN is installed. */
    static final String PROPERTY = "kiln.cudnn";

    static boolean enabled() { return !"off".equals(System.getProperty(PROPERTY)); }

    static ConvRoute choose(ConvGeometry g, boolean cudnnLoaded) {
        if (!cudnnLoaded) {
            return new ConvRoute(false, "cuDNN 9 is not loaded (libcudnn.so.9 not found, -D" + PROPERTY + "=off, or the emulated device)");
        }
        CudnnConvPlan plan = new CudnnConvPlan(g);
        if (!plan.fits()) return new ConvRoute(false, "cuDNN cannot express it: " + plan.misfit());
        return new ConvRoute(true, "cuDNN 9");
    }
}
