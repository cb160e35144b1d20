package dev.kiln.cpu.parity;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.testing.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static dev.kiln.cpu.parity.Parity.*;
import static dev.kiln.graph.Ops.*;

/**
 * Softmax, log-softmax, categorical cross-entropy (one-hot, class indices and soft labels) and binary
 * cross-entropy (from logits and from probabilities), per example, their means and the gradients of the means,
 * against PyTorch. Tolerances: per-element values are a few roundings (relative 1e-5, with a floor for
 * losses near 0, where log-sum-exp minus the label logit cancels: 1e-6 × the largest logit); means and
 * gradients of means sum over the C classes or the N examples ({@link Parity#sum}).
 */
class LossParityTest {
    static List<Arguments> categorical() { return Parity.cases("softmax_cross_entropy"); }
    static List<Arguments> binary() { return Parity.cases("bce_logits", "bce_probs"); }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("categorical")
    void softmaxCrossEntropyMatchesPyTorch(String name, Engine engine) {
        Fixture fx = Fixture.load(name);
        Node z = in(fx, "logits"), onehot = in(fx, "labels_onehot"), labels = in(fx, "labels"), soft = in(fx, "labels_soft");
        Node loss = softmaxCrossEntropy(z, onehot), sparse = sparseSoftmaxCrossEntropy(z, labels), softLoss = softmaxCrossEntropy(z, soft);
        Node mean = meanAll(loss);
        Node dz = Autodiff.gradients(mean, List.of(z)).get(0);
        Node dzSparse = Autodiff.gradients(meanAll(sparse), List.of(z)).get(0);
        Node dzSoft = Autodiff.gradients(meanAll(softLoss), List.of(z)).get(0);
        List<float[]> out = engine.run(new Graph(List.of(loss, sparse, mean, dz, dzSparse, softmax(z), logSoftmax(z), softLoss, dzSoft), List.of()),
                List.of(z, onehot, labels, soft), List.of(fx.get("logits"), fx.get("labels_onehot"), fx.get("labels"), fx.get("labels_soft")));

        int n = z.shape().dim(0), c = z.shape().dim(1);
        double zScale = scaleOf(fx.get("logits"));
        Tol perExample = sum(c, zScale);
        check("loss", engine, fx, "loss", out.get(0), perExample);
        check("loss", engine, fx, "loss", out.get(1), perExample);
        check("loss", engine, fx, "loss_mean", out.get(2), sum(n, scaleOf(fx.get("loss"))));
        // dlogits = (softmax - onehot) / n: softmax - 1 cancels for a confident correct class
        Tol grad = sum(c, 1.0 / n);
        check("loss", engine, fx, "dlogits", out.get(3), grad);
        check("loss", engine, fx, "dlogits", out.get(4), grad);
        check("loss", engine, fx, "softmax", out.get(5), sum(c, 1));
        check("loss", engine, fx, "log_softmax", out.get(6), perExample);
        check("loss", engine, fx, "loss_soft", out.get(7), perExample);
        check("loss", engine, fx, "dlogits_soft", out.get(8), grad);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("binary")
    void binaryCrossEntropyMatchesPyTorch(String name, Engine engine) {
        Fixture fx = Fixture.load(name);
        boolean logits = name.equals("bce_logits");
        String xName = logits ? "logits" : "probs";
        Node x = in(fx, xName), t = in(fx, "targets");
        Node loss = logits ? bceWithLogits(x, t) : bce(x, t);
        Node mean = meanAll(loss);
        Node dx = Autodiff.gradients(mean, List.of(x)).get(0);
        List<float[]> out = engine.run(new Graph(List.of(loss, mean, dx), List.of()), List.of(x, t), List.of(fx.get(xName), fx.get("targets")));

        int n = x.shape().size();
        // per element: max(z,0) - z·t + log1p(exp(-|z|)) (or -t·log p - (1-t)·log(1-p)): three terms
        check("loss", engine, fx, "loss", out.get(0), sum(3, scaleOf(fx.get("loss"))));
        check("loss", engine, fx, "loss_mean", out.get(1), sum(n, scaleOf(fx.get("loss"))));
        // (sigmoid(z) - t) / n, or (p - t) / (p(1-p) n): a difference that cancels when the prediction is right
        String gName = logits ? "dlogits" : "dprobs";
        check("loss", engine, fx, gName, out.get(2), sum(2, scaleOf(fx.get(gName))));
    }

    @AfterAll
    static void report() { Parity.report("loss"); }
}
