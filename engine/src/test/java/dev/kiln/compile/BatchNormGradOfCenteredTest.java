package dev.kiln.compile;

import dev.kiln.graph.BatchNormGrad;
import dev.kiln.graph.Binary;
import dev.kiln.graph.BinaryFn;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Full;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Padding;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Activation;
import dev.kiln.nn.ActivationLayer;
import dev.kiln.nn.BatchNormalization;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Input;
import dev.kiln.nn.MaxPool2D;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;
import dev.kiln.testing.BatchNormStep;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * batch_norm_grad_of_centered: the fused gradient reads the graph's own x - mean (with mean 0) instead of x, computes
 * the same values, and so lets x die after the forward pass: the fused program's arena is then no larger than the
 * composed one's (before the pass it was larger, since the fused op kept x and x - mean both live into the backward).
 */
class BatchNormGradOfCenteredTest {
    @Test
    void theGradientReadsTheCentredConvolutionOutputAndAZeroMean() {
        Graph g = centred(BatchNormStep.convBnRelu(true, 2, 5, 4).graph());
        List<Node> grads = g.schedule().stream().filter(n -> n.op() instanceof BatchNormGrad).toList();
        assertEquals(1, grads.size());
        Node grad = grads.getFirst(), c = grad.input(0);
        assertTrue(c.op() instanceof Binary b && b.fn() == BinaryFn.SUB, "reads " + c.describe());
        assertTrue(c.input(0).op() instanceof Conv2d, "x - mean of the convolution's output, got " + c.input(0).describe());
        assertEquals(new Full(Shape.of(4), 0), grad.input(2).op());
        assertTrue(g.schedule().stream().noneMatch(n -> n.op() instanceof BatchNormGrad && n.inputs().contains(c.input(0))),
                "no batch_norm_grad reads the convolution's output itself");
    }

    @Test
    void theStepComputesTheSameValuesOnTheReferenceInterpreter() {
        BatchNormStep s = BatchNormStep.convBnRelu(true, 3, 4, 5);
        Graph before = new CommonSubexpressionElimination().run(s.graph()), after = new BatchNormGradOfCentered().run(before);
        assertTrue(after != before, "the pass rewrote the gradient");
        // (x - mean) - 0 is x - mean exactly: the same doubles, not merely close ones
        List<double[]> a = run(before, s), b = run(after, s);
        for (int o = 0; o < a.size(); o++) assertArrayEquals(a.get(o), b.get(o), "output " + o);
    }

    @Test
    void aGradientWhoseCentredInputTheGraphDoesNotComputeIsLeftAlone() {
        Node x = Ops.input("x", Shape.of(6, 3)), dy = Ops.input("dy", Shape.of(6, 3));
        Node mean = Ops.input("mean", Shape.of(3)), var = Ops.input("var", Shape.of(3)), gamma = Ops.input("gamma", Shape.of(3));
        Graph g = new Graph(List.of(Ops.batchNormGrad(x, dy, mean, var, gamma, 1e-3)), List.of());
        assertSame(g, new BatchNormGradOfCentered().run(g));
    }

    @Test
    void aConvBnReluNetsFusedProgramHasNoLargerArenaThanItsComposedOne() {
        Model m = Sequential.of(Input.shape(12, 12, 2), Conv2D.of(8, 3).padding(Padding.SAME).noBias(), BatchNormalization.of(),
                ActivationLayer.of(Activation.RELU), MaxPool2D.of(2), Conv2D.of(16, 3).padding(Padding.SAME).noBias(),
                BatchNormalization.of(), ActivationLayer.of(Activation.RELU), MaxPool2D.of(2), Flatten.of(), Dense.of(3)).seed(3);
        m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropyFromLogits());
        Model.Traced t = m.trainingGraph(8);
        Compiler.Options opts = Compiler.Options.defaults().withInputs(t.inputs());
        Program composed = Compiler.compile(t.graph(), opts), fused = Compiler.compile(t.graph(), opts.withPasses(Compiler.fusedPasses()));
        assertEquals(2, fused.instructions().stream().filter(i -> i.op() instanceof BatchNormGrad).count());
        assertTrue(fused.arenaSize() <= composed.arenaSize(), "fused arena " + fused.arenaSize() + " floats, composed " + composed.arenaSize());
    }

    private static Graph centred(Graph g) {
        return new BatchNormGradOfCentered().run(new CommonSubexpressionElimination().run(g));
    }

    private static List<double[]> run(Graph g, BatchNormStep s) {
        float[][] feeds = s.feeds(11);
        Map<Node, double[]> m = new HashMap<>();
        for (int i = 0; i < feeds.length; i++) {
            double[] d = new double[feeds[i].length];
            for (int k = 0; k < d.length; k++) d[k] = feeds[i][k];
            m.put(s.inputs().get(i), d);
        }
        return new Interpreter().run(g, m);
    }
}
