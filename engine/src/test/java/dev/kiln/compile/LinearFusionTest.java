package dev.kiln.compile;

import dev.kiln.graph.Conv2d;
import dev.kiln.graph.ConvBias;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Linear;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Unary;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;

class LinearFusionTest {
    private final Pass fuse = new LinearFusion();

    private Graph run(Graph g) {
        Graph h = fuse.run(g);
        Verifier.verify(fuse.name(), g, h);
        // the interpreter's Linear case is matmul, + bias, activation in double: the same sums in the same order
        GraphFixtures.assertSameValues(g, h, GraphFixtures.randomFeeds(g, 11), 1e-12);
        return h;
    }

    @Test
    void reluOfBiasedMatmulBecomesOneLinearOp() {
        Random r = new Random(1);
        Node x = input("x", Shape.of(5, 7));
        Node w = param(GraphFixtures.variable("w", Shape.of(7, 3), r));
        Node b = param(GraphFixtures.variable("b", Shape.of(3), r));
        Graph h = run(Graph.of(relu(add(matmul(x, w), b))));
        Node out = h.outputs().get(0);
        assertEquals(new Linear(false, false, Epilogue.Activation.RELU), out.op());
        assertEquals(List.of(x, w, b), out.inputs());
        assertEquals(1, GraphFixtures.instructions(h));
    }

    @Test
    void reluOfBiasedConvolutionBecomesOneConvBiasOp() {
        Random r = new Random(5);
        Node x = input("x", Shape.of(2, 5, 4, 3));
        Node w = param(GraphFixtures.variable("w", Shape.of(3, 3, 3, 6), r));
        Node b = param(GraphFixtures.variable("b", Shape.of(6), r));
        Conv2d conv = Conv2d.of(1, Padding.SAME);
        Graph h = run(new Graph(List.of(relu(add(conv2d(x, w, conv), b)), add(b, conv2d(x, w, Conv2d.of(2, Padding.VALID)))), List.of()));
        Node out = h.outputs().get(0);
        assertEquals(new ConvBias(conv, Epilogue.Activation.RELU), out.op());
        assertEquals(List.of(x, w, b), out.inputs());
        assertEquals(new ConvBias(Conv2d.of(2, Padding.VALID), Epilogue.Activation.NONE), h.outputs().get(1).op(), "bias first folds too");
        assertEquals(2, GraphFixtures.instructions(h));
    }

    @Test
    void biasFirstSigmoidTanhAndTransposesFoldToo() {
        Random r = new Random(2);
        Node x = input("x", Shape.of(7, 5));
        Node w = param(GraphFixtures.variable("w", Shape.of(3, 7), r));
        Node b = param(GraphFixtures.variable("b", Shape.of(3), r));
        Graph h = run(new Graph(List.of(sigmoid(add(b, matmul(x, w, true, true))), tanh(add(matmul(x, w, true, true), b))), List.of()));
        assertEquals(new Linear(true, true, Epilogue.Activation.SIGMOID), h.outputs().get(0).op());
        assertEquals(new Linear(true, true, Epilogue.Activation.TANH), h.outputs().get(1).op());
    }

    @Test
    void aSumReadElsewhereKeepsItsActivationSeparate() {
        // training: relu's gradient reads the pre-activation sum, so only the bias folds
        Random r = new Random(3);
        Node x = input("x", Shape.of(4, 6));
        Node w = param(GraphFixtures.variable("w", Shape.of(6, 8), r));
        Node b = param(GraphFixtures.variable("b", Shape.of(8), r));
        Node z = add(matmul(x, w), b);
        Graph h = run(new Graph(List.of(relu(z), greater(z, scalar(0))), List.of()));
        Node y = h.outputs().get(0);
        assertInstanceOf(Unary.class, y.op());
        assertEquals(new Linear(false, false, Epilogue.Activation.NONE), y.input(0).op());
        assertSame(y.input(0), h.outputs().get(1).input(0), "the sum is computed once and read by both");
    }

    @Test
    void productsAndSumsThatAreReadElsewhereOrDoNotFitStayAsTheyAre() {
        Random r = new Random(4);
        Node x = input("x", Shape.of(4, 6));
        Node w = param(GraphFixtures.variable("w", Shape.of(6, 8), r));
        Node b = param(GraphFixtures.variable("b", Shape.of(8), r));
        Node rowBias = param(GraphFixtures.variable("rb", Shape.of(4, 1), r));
        Node p = matmul(x, w);
        Graph g = new Graph(List.of(add(p, b), p, relu(add(matmul(x, w, false, false), rowBias))), List.of());
        Graph h = fuse.run(g);
        assertSame(g, h, "a product that is an output, and a bias that is not [N], leave the graph unchanged");
        Node q = matmul(x, w);
        Graph g2 = new Graph(List.of(add(q, b), mul(q, scalar(2))), List.of());
        assertInstanceOf(MatMul.class, run(g2).outputs().get(0).input(0).op(), "the product has another reader");
    }

    @Test
    void theDefaultPipelineFoldsADenseLayerBeforeElementwiseFusion() {
        Random r = new Random(5);
        Node x = input("x", Shape.of(2, 3, 4));
        Node w = param(GraphFixtures.variable("w", Shape.of(4, 5), r));
        Node b = param(GraphFixtures.variable("b", Shape.of(5), r));
        Graph g = Graph.of(relu(add(matmul(x, w), b)));
        Graph h = Compiler.optimize(g, Compiler.Options.defaults());
        assertEquals(new Linear(false, false, Epilogue.Activation.RELU), h.outputs().get(0).op());
        GraphFixtures.assertSameValues(g, h, GraphFixtures.randomFeeds(g, 12), 1e-12);
    }
}
