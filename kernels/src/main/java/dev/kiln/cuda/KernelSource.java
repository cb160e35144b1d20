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

    /** The CUDA C text. */
    public String text() {
        try (InputStream in = KernelSource.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("kernel source " + resource + " is missing beside "
                    + KernelSource.class.getName() + " (is kiln-cuda's jar complete?)");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + resource, e);
        }
    }
}
