package dev.kiln.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A CUDA C source file kept as a resource beside this class, and the extern "C" kernels it
 * defines. The entry-point list is what the launcher will look up after NVRTC compiles the
 * source, and what the test suite checks in {@code nvcc -ptx}'s output.
 *
 * <pre>{@code
 * String cuda = KernelSource.ELEMENTWISE.text();
 * }</pre>
 */
public record KernelSource(String resource, List<String> entryPoints) {
    public KernelSource { entryPoints = List.copyOf(entryPoints); }

    public static final KernelSource ELEMENTWISE = new KernelSource("elementwise.cu",
            List.of("kiln_add_relu_f32", "kiln_relu_backward_f32", "kiln_adam_update_f32"));
    public static final KernelSource BROADCAST = new KernelSource("broadcast.cu", List.of("kiln_binary_broadcast_f32"));
    public static final KernelSource REDUCE = new KernelSource("reduce.cu", List.of("kiln_sum_rows_f32", "kiln_sum_cols_f32"));
    public static final KernelSource SOFTMAX = new KernelSource("softmax.cu", List.of("kiln_softmax_xent_f32"));
    public static final KernelSource DROPOUT = new KernelSource("dropout.cu", List.of("kiln_dropout_f32"));
    public static final KernelSource OPTIMIZERS = new KernelSource("optimizers.cu", List.of("kiln_sgd_update_f32"));
    public static final KernelSource BATCH_NORM = new KernelSource("batchnorm.cu", List.of("kiln_batchnorm_forward_f32", "kiln_batchnorm_backward_f32"));

    /** Each pass in 16x16 and wide tiles, for f32 operands and for bf16 / fp16 ones (f32 accumulation and output). */
    public static final KernelSource CONV = new KernelSource("conv.cu", java.util.stream.Stream.of("f32", "bf16", "fp16")
            .flatMap(t -> java.util.stream.Stream.of("", "wide_").flatMap(wide -> java.util.stream.Stream.of("forward", "backward_data", "backward_filter")
                    .map(pass -> "kiln_conv2d_" + pass + "_" + wide + t)))
            .toList());
    public static final KernelSource POOL = new KernelSource("pool.cu", List.of("kiln_pool2d_forward_f32", "kiln_pool2d_backward_f32"));

    /** Every kernel source, for the build's PTX step and the tests. */
    public static final List<KernelSource> ALL = List.of(ELEMENTWISE, BROADCAST, REDUCE, SOFTMAX, DROPOUT, OPTIMIZERS, BATCH_NORM, CONV, POOL);

    /** The CUDA C text, with {@code #include "x.cuh"} lines replaced by the resource they name (one level). */
    public String text() {
        StringBuilder out = new StringBuilder();
        for (String line : read(resource).split("\n", -1)) {
            String t = line.strip();
            if (t.startsWith("#include \"")) {
                String header = t.substring(10, t.indexOf('"', 10));
                out.append("// ---- ").append(header).append(" (inlined)\n").append(read(header).replace("#pragma once", "")).append('\n');
            } else out.append(line).append('\n');
        }
        return out.toString();
    }

    /** The PTX the build made with nvcc (dev/kiln/cuda/ptx/NAME.ptx in the jar), or empty when the build had no nvcc. */
    public java.util.Optional<String> prebuiltPtx() {
        String name = "ptx/" + resource.substring(0, resource.length() - ".cu".length()) + ".ptx";
        if (KernelSource.class.getResource(name) == null) return java.util.Optional.empty();
        return java.util.Optional.of(read(name));
    }

    private static String read(String resource) {
        try (InputStream in = KernelSource.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("kernel source " + resource + " is missing beside "
                    + KernelSource.class.getName() + " (is kiln-cuda's jar complete?)");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + resource, e);
        }
    }
}
