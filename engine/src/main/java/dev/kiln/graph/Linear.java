package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * A dense layer's forward pass as one op: {@code y = activation(op(A) · op(B) + bias)}, with
 * {@code bias} of shape {@code [N]} broadcast over every row of the {@link MatMul} result. Inputs:
 * a, b, bias. Created only by the {@code fuse_linear} compiler pass, after autodiff, so that backends
 * apply bias and activation while the GEMM's output tile is still in registers or cache instead of
 * in extra passes over memory.
 *
 * <pre>{@code Node y = Ops.node(new Linear(false, false, Linear.Activation.RELU), x, w, bias); }</pre>
 */
public record Linear(boolean transposeA, boolean transposeB, Activation activation) implements Op {
    /** The activations a GEMM epilogue applies; {@code NONE} is the identity. */
    public enum Activation {
        NONE(null), RELU(UnaryFn.RELU), SIGMOID(UnaryFn.SIGMOID), TANH(UnaryFn.TANH);

        private final UnaryFn fn;

        Activation(UnaryFn fn) { this.fn = fn; }

        /** The elementwise function, or null for {@code NONE}. */
        public UnaryFn fn() { return fn; }

        /** The activation for {@code fn}, or null when a GEMM epilogue does not apply it. */
        public static Activation of(UnaryFn fn) {
            for (Activation a : values()) if (a.fn == fn) return a;
            return null;
        }

        public double apply(double x) { return fn == null ? x : fn.apply(x); }
    }

    public Linear {
        if (activation == null) throw new IllegalArgumentException("linear activation must not be null; use Activation.NONE");
    }

    public String name() {
        return "linear" + (transposeA ? "_ta" : "") + (transposeB ? "_tb" : "") + (activation == Activation.NONE ? "" : "_" + activation.name().toLowerCase());
    }

    public int arity() { return 3; }

    public Shape inferShape(List<Shape> in) {
        Shape y = new MatMul(transposeA, transposeB).inferShape(in.subList(0, 2));
        Shape bias = in.get(2);
        if (bias.rank() != 1 || bias.dim(0) != y.dim(-1)) {
            throw new IllegalArgumentException("linear bias must have shape [" + y.dim(-1) + "] to match the product " + y + ", got " + bias);
        }
        return y;
    }

    public List<Node> gradient(Node out, Node g) {
        throw new UnsupportedOperationException("linear ops appear after autodiff (fuse_linear pass) and have no gradient");
    }
}
