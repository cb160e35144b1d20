package dev.kiln.compile;

import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Conv2dBackwardData;
import dev.kiln.graph.Conv2dBackwardFilter;
import dev.kiln.graph.ConvBias;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Linear;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Node;
import dev.kiln.graph.Op;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Unary;
import dev.kiln.graph.UnaryFn;

import java.util.ArrayList;
import java.util.List;

/**
 * Mixed precision as a rewrite: the two operands of every product (matmul, conv2d, both convolution gradients,
 * and linear/conv2d_bias if already fused; never a bias) are rounded to the {@link Precision}'s format:
 * <pre>
 *   matmul(a, b)  →  matmul(round_bf16(a), round_bf16(b))
 * </pre>
 * It runs on the whole step after autodiff, so the backward products (dy·wᵀ, xᵀ·dy, the convolution
 * gradients) read rounded operands too, as on tensor cores; everything else stays f32. First in the pipeline:
 * CSE then merges the roundings of a weight read by several products, and elementwise fusion folds each
 * rounding into the kernel that makes its operand.
 */
public final class AutoCast implements Pass {
    private final UnaryFn rounding;

    /** The pass for {@code precision}; {@link Precision#F32} has none (see {@link #passesFor}). */
    public AutoCast(Precision precision) {
        if (precision.rounding() == null) throw new IllegalArgumentException("precision F32 rounds nothing; compile without an AutoCast pass");
        this.rounding = precision.rounding();
    }

    /** {@code passes} with this precision's AutoCast first, or {@code passes} itself for F32. */
    public static List<Pass> passesFor(Precision precision, List<Pass> passes) {
        if (precision.rounding() == null) return passes;
        List<Pass> all = new ArrayList<>();
        all.add(new AutoCast(precision));
        all.addAll(passes);
        return all;
    }

    public String name() { return "autocast_" + rounding.lowerName().substring("round_".length()); }

    public Graph run(Graph g) {
        return Rebuild.map(g, (n, ins) -> {
            if (!isProduct(n.op())) return Rebuild.withInputs(n, ins);
            List<Node> rounded = new ArrayList<>(ins);
            for (int i = 0; i < 2; i++) rounded.set(i, round(ins.get(i)));
            return Rebuild.node(n, n.op(), rounded);
        });
    }

    private Node round(Node operand) {
        if (operand.op() instanceof Unary u && u.fn() == rounding) return operand;  // rounding is idempotent
        return Ops.derived(operand, new Unary(rounding), List.of(operand));
    }

    /** The ops whose first two inputs are a product's operands (a new product op must be added here). */
    private static boolean isProduct(Op op) {
        return op instanceof MatMul || op instanceof Conv2d || op instanceof Conv2dBackwardData || op instanceof Conv2dBackwardFilter
                || op instanceof Linear || op instanceof ConvBias;
    }
}
