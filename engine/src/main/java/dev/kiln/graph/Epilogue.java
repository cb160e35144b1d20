package dev.kiln.graph;

/**
 * What a GEMM or a convolution applies to its result while the output tile is still in registers or cache:
 * {@code y = activation(acc + bias)}, the bias (when present) of shape {@code [N]} broadcast over every row or
 * pixel. A type of its own, apart from the graph ops that carry one ({@link Linear}, {@link ConvBias}), so that
 * backends' kernels name the epilogue and not a graph op: the CPU kernels take {@link Activation} beside their
 * bias array; a device backend maps the whole epilogue onto its library's (cuBLASLt's bias and activation
 * epilogues).
 *
 * <pre>{@code Epilogue e = new Linear(false, false, Epilogue.Activation.RELU).epilogue(); // bias, then relu }</pre>
 */
public record Epilogue(boolean bias, Activation activation) {
    /** No bias and the identity: the plain product. */
    public static final Epilogue NONE = new Epilogue(false, Activation.NONE);

    /** The activations an epilogue applies; {@code NONE} is the identity. */
    public enum Activation {
        NONE(null), RELU(UnaryFn.RELU), SIGMOID(UnaryFn.SIGMOID), TANH(UnaryFn.TANH);

        private final UnaryFn fn;

        Activation(UnaryFn fn) { this.fn = fn; }

        /** The elementwise function, or null for {@code NONE}. */
        public UnaryFn fn() { return fn; }

        /** The activation for {@code fn}, or null when an epilogue does not apply it. */
        public static Activation of(UnaryFn fn) {
            for (Activation a : values()) if (a.fn == fn) return a;
            return null;
        }

        /** The reference meaning, in double. */
        public double apply(double x) { return fn == null ? x : fn.apply(x); }
    }

    public Epilogue {
        if (activation == null) throw new IllegalArgumentException("epilogue activation must not be null; use Activation.NONE");
    }

    /** The reference meaning of one output element, in double: {@code acc} is the product's, {@code b} the bias for its column. */
    public double apply(double acc, double b) { return activation.apply(bias ? acc + b : acc); }

    /** "", "_relu", ... : the suffix an op's name carries for its activation. */
    String suffix() { return activation == Activation.NONE ? "" : "_" + activation.name().toLowerCase(); }
}
