package dev.kiln.compile;

import dev.kiln.graph.BatchNormGrad;
import dev.kiln.graph.Binary;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lets a {@link BatchNormGrad} read the centred input instead of x, so that x can die after the forward pass: where the
 * graph already computes {@code c = x - mean} (BatchNormalization's variance does, and the scale's gradient
 * {@code Σ dy·(x - mean)·invStd} reads it in the backward), {@code batch_norm_grad(x, dy, mean, var, gamma)} becomes
 * {@code batch_norm_grad(c, dy, 0, var, gamma)}. Same function: the op reads x only through {@code x - mean}, and
 * {@code (x - mean) - 0} is that same value (bit for bit where the kernel subtracts the mean, as the interpreter and
 * kiln_batchnorm_backward_f32 do; cuDNN, which recomputes the statistics from its input, finds mean 0 and the same
 * variance up to rounding). Without it the fused program holds both x and {@code x - mean}, each the size of the
 * activation, from the forward pass until the gradient, where the composed ops hold only {@code x - mean}.
 *
 * <p>Runs after the first CSE, so that the variance's and the gradient's {@code x - mean} are one node; the centred
 * value must come earlier in the schedule than the gradient (it does when var is computed from it). A no-op after
 * {@link ExpandBatchNormGrad}.
 */
public final class BatchNormGradOfCentered implements Pass {
    private record Operands(Node x, Node mean) {}

    public String name() { return "batch_norm_grad_of_centered"; }

    public Graph run(Graph g) {
        Map<Operands, Node> centered = new HashMap<>();
        return Rebuild.map(g, (n, ins) -> {
            if (n.op() instanceof Binary b && b.fn() == BinaryFn.SUB) {
                Node m = Rebuild.withInputs(n, ins);
                centered.putIfAbsent(new Operands(ins.get(0), ins.get(1)), m);
                return m;
            }
            if (n.op() instanceof BatchNormGrad) {
                Node c = centered.get(new Operands(ins.get(0), ins.get(2)));
                if (c != null && c.shape().equals(ins.get(0).shape())) {
                    return Rebuild.node(n, n.op(), List.of(c, ins.get(1), Ops.zerosLike(ins.get(2)), ins.get(3), ins.get(4)));
                }
            }
            return Rebuild.withInputs(n, ins);
        });
    }
}
