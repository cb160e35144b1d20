package dev.kiln.compile;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.BatchNorm;
import dev.kiln.graph.BatchNormGrad;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;

import java.util.List;

/**
 * Turns each {@link BatchNormGrad} back into the ops autodiff makes when it differentiates a batch norm through its
 * statistics: the gradient of a {@code BatchNorm(batchStatistics = false)} over the same x, mean and var, seeded with
 * dy. Those are the nodes the graph held before the fused op existed, so after CSE the program is the same, and so are
 * its bits (where x feeds only the batch norm and its statistics, as after every Conv2D or Dense of the course models;
 * another reader of x can change the order in which autodiff adds x's gradient terms). First in
 * {@link Compiler#defaultPasses()}, for backends with no kernel for the fused op (the CPU, whose composed ops are
 * vectorised and fused already); {@link Compiler#fusedPasses()} leaves it out.
 */
public final class ExpandBatchNormGrad implements Pass {
    public String name() { return "expand_batch_norm_grad"; }

    public Graph run(Graph g) {
        return Rebuild.map(g, (n, ins) -> n.op() instanceof BatchNormGrad b ? composed(b, ins) : Rebuild.withInputs(n, ins));
    }

    /** dx from inputs (x, dy, mean, var, gamma); the batch norm's beta is not read by its gradient, so zeros stand in. */
    static Node composed(BatchNormGrad b, List<Node> ins) {
        Node x = ins.get(0), dy = ins.get(1), mean = ins.get(2), var = ins.get(3), gamma = ins.get(4);
        Node y = Ops.node(new BatchNorm(b.epsilon()), x, mean, var, gamma, Ops.zerosLike(gamma));
        return Autodiff.gradients(y, dy, List.of(x)).getFirst();
    }
}
