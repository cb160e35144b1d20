package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

/**
 * A dense layer's forward pass as one op: {@code y = activation(op(A) · op(B) + bias)}, with
 * {@code bias} of shape {@code [N]} broadcast over every row of the {@link MatMul} result. Inputs:
 * a, b, bias. Created only by the {@code fuse_linear} compiler pass, after autodiff, so that backends
 * apply bias and activation while the GEMM's output tile is still in registers or cache instead of
 * in extra passes over memory; see {@link Epilogue}.
 *
 * <pre>{@code Node y = Ops.node(new Linear(false, false, Epilogue.Activation.RELU), x, w, bias); }</pre>
 */
public record Linear(boolean transposeA, boolean transposeB, Epilogue.Activation activation) implements Lowered {
    public Linear {
        if (activation == null) throw new IllegalArgumentException("linear activation must not be null; use Epilogue.Activation.NONE");
    }

    public String name() {
        return "linear" + (transposeA ? "_ta" : "") + (transposeB ? "_tb" : "") + epilogue().suffix();
    }

    /** The bias and activation applied to the product. */
    public Epilogue epilogue() { return new Epilogue(true, activation); }

    public int arity() { return 3; }

    public Shape inferShape(List<Shape> in) {
        Shape y = new MatMul(transposeA, transposeB).inferShape(in.subList(0, 2));
        Shape bias = in.get(2);
        if (bias.rank() != 1 || bias.dim(0) != y.dim(-1)) {
            throw new IllegalArgumentException("linear bias must have shape [" + y.dim(-1) + "] to match the product " + y + ", got " + bias);
        }
        return y;
    }
}
