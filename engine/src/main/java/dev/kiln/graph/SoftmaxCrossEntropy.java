package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.List;

import static dev.kiln.graph.Ops.*;

/**
 * Per-example categorical cross-entropy from logits: -Σ_c labels_c · log_softmax(logits)_c.
 * Inputs: logits [..., C], labels [..., C] (probabilities or one-hot) → [...].
 */
public record SoftmaxCrossEntropy() implements Primitive {
    public String name() { return "softmax_cross_entropy"; }
    public int arity() { return 2; }
    public Shape inferShape(List<Shape> in) {
        Shape z = in.get(0);
        if (!z.equals(in.get(1))) throw new IllegalArgumentException("logits " + z + " and labels " + in.get(1) + " must have the same shape");
        if (z.rank() < 1) throw new IllegalArgumentException("logits need a class axis");
        int[] d = new int[z.rank() - 1];
        for (int i = 0; i < d.length; i++) d[i] = z.dim(i);
        return Shape.of(d);
    }
    public List<Node> gradient(Node out, Node g) {
        Node logits = out.input(0), labels = out.input(1);
        Node gKept = reshape(g, logits.shape().withDim(-1, 1));
        // d/dz = (softmax(z) · Σ labels - labels) · g; for labels summing to 1 this is softmax(z) - labels
        Node dz = mul(sub(mul(softmax(logits), sum(labels, List.of(logits.shape().rank() - 1), true)), labels), gKept);
        Node dl = mul(neg(logSoftmax(logits)), gKept);
        return List.of(dz, dl);
    }
}
