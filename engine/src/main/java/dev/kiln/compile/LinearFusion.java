package dev.kiln.compile;

import dev.kiln.graph.Binary;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.ConvBias;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Linear;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Node;
import dev.kiln.graph.Op;
import dev.kiln.graph.Unary;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds a dense layer's forward pass into one {@link Linear} op, and a convolution layer's into one
 * {@link ConvBias} op, so the GEMM applies bias and activation while its output tile is in registers or cache:
 * <pre>
 *   add(matmul(a, b), bias[N])              → linear(a, b, bias)
 *   relu|sigmoid|tanh(add(matmul(a, b), bias)) → linear_relu|…(a, b, bias)
 *   add(conv2d(x, w), bias[F])              → conv2d_bias(x, w, bias), and its activation likewise
 * </pre>
 * A value is folded in only when nothing else reads it and it is not a graph output: the product when the add
 * is its only reader, the sum when the activation is its only reader (the relu, sigmoid and tanh gradients read
 * the activation's output, so this holds in training too; a sum read elsewhere keeps its activation separate and
 * only the bias is folded). The bias must have shape [N], N the
 * product's last axis, and the sum the product's shape. Runs after autodiff, before elementwise fusion.
 */
public final class LinearFusion implements Pass {
    public String name() { return "fuse_linear"; }

    public Graph run(Graph g) {
        Map<Node, List<Node>> users = g.users();
        Set<Node> outputs = new HashSet<>(g.outputs());
        return Rebuild.map(g, (n, ins) -> {
            if (n.op() instanceof Binary bin && bin.fn() == BinaryFn.ADD) {
                for (int side = 0; side < 2; side++) {
                    Node product = n.input(side), bias = n.input(1 - side);
                    Op fused = withBias(product.op(), Epilogue.Activation.NONE);
                    if (fused != null && onlyReader(product, n, users, outputs)
                            && bias.shape().rank() == 1 && bias.shape().dim(0) == product.shape().dim(-1)
                            && n.shape().equals(product.shape())) {
                        Node p = ins.get(side);
                        return Rebuild.node(n, fused, List.of(p.input(0), p.input(1), ins.get(1 - side)));
                    }
                }
            }
            if (n.op() instanceof Unary u && Epilogue.Activation.of(u.fn()) != null) {
                Node sum = ins.get(0);
                Op fused = withActivation(sum.op(), Epilogue.Activation.of(u.fn()));
                if (fused != null && onlyReader(n.input(0), n, users, outputs)) return Rebuild.node(n, fused, sum.inputs());
            }
            return Rebuild.withInputs(n, ins);
        });
    }

    /** The biased form of a product op (matmul, conv2d) with {@code act}, or null for any other op. */
    private static Op withBias(Op product, Epilogue.Activation act) {
        if (product instanceof MatMul mm) return new Linear(mm.transposeA(), mm.transposeB(), act);
        if (product instanceof Conv2d c) return new ConvBias(c, act);
        return null;
    }

    /** A biased product without an activation, given {@code act}; null for anything else. */
    private static Op withActivation(Op sum, Epilogue.Activation act) {
        if (sum instanceof Linear l && l.activation() == Epilogue.Activation.NONE) return new Linear(l.transposeA(), l.transposeB(), act);
        if (sum instanceof ConvBias c && c.activation() == Epilogue.Activation.NONE) return new ConvBias(c.conv(), act);
        return null;
    }

    private static boolean onlyReader(Node value, Node reader, Map<Node, List<Node>> users, Set<Node> outputs) {
        if (outputs.contains(value)) return false;
        for (Node u : users.get(value)) if (u != reader) return false;
        return true;
    }
}
