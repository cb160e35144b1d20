package dev.kiln.examples;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Pass;
import dev.kiln.compile.Program;
import dev.kiln.cpu.CpuBackend;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.*;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.Test;

import java.util.*;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole training step of a course model (batch norm, dense, dropout, sigmoid + BCE, Adam),
 * compiled with and without the optimisation passes and run on the CPU backend, against the
 * double-precision reference interpreter: the loss, the predictions and every updated variable
 * (weights, Adam slots, moving statistics).
 */
class CompiledStepMatchesInterpreterTest {
    @Test
    void trainingStepOfABatchNormClassifierMatchesTheReference() {
        for (List<Pass> passes : List.of(List.<Pass>of(), Compiler.defaultPasses())) {
            Model model = Sequential.of(Input.shape(30),
                    BatchNormalization.of(), Dense.of(8).relu(), Dropout.of(0.3), Dense.of(1).sigmoid()).seed(1);
            model.compile(Adam.lr(1e-2), Loss.binaryCrossentropy(), Metric.binaryAccuracy());
            checkStep(model, passes, 5);
        }
    }

    /** The convnet path: same-padded 3x3 convs, pooling, flatten, dense head, softmax cross-entropy. */
    @Test
    void trainingStepOfAConvnetMatchesTheReference() {
        for (List<Pass> passes : List.of(List.<Pass>of(), Compiler.defaultPasses())) {
            Model model = Sequential.of(Input.shape(12, 12, 3),
                    Conv2D.of(8, 3).same().relu(), MaxPool2D.of(2),
                    Conv2D.of(16, 3).same().relu(), Conv2D.of(16, 3).same().relu(), MaxPool2D.of(2),
                    Flatten.of(), Dense.of(6).relu(), Dropout.of(0.2), Dense.of(4).softmax()).seed(2);
            model.compile(Adam.lr(1e-2), Loss.sparseCategoricalCrossentropy(), Metric.accuracy());
            checkStep(model, passes, 3);
        }
    }

    private static void checkStep(Model model, List<Pass> passes, int batch) {
        {
            Model.Traced t = model.trainingGraph(batch);
            Random r = new Random(3);
            Map<Node, double[]> feeds = new HashMap<>();
            float[][] floats = new float[t.inputs().size()][];
            for (int i = 0; i < t.inputs().size(); i++) {
                Node in = t.inputs().get(i);
                double[] d = new double[in.shape().size()];
                String name = ((dev.kiln.graph.Placeholder) in.op()).inputName();
                for (int k = 0; k < d.length; k++) d[k] = switch (name) { case "y" -> k % 2; case "lr" -> 1e-2; case "step" -> 3; default -> r.nextGaussian(); };
                feeds.put(in, d);
                floats[i] = new float[d.length];
                for (int k = 0; k < d.length; k++) floats[i][k] = (float) d[k];
            }
            Program p = Compiler.compile(t.graph(), Compiler.Options.defaults().withInputs(t.inputs()).withPasses(passes));
            Interpreter reference = new Interpreter();
            List<double[]> expected = reference.run(t.graph(), feeds);

            Executable e = new CpuBackend().compile(p);
            for (int i = 0; i < floats.length; i++) e.setInput(i, floats[i]);
            e.run();
            float[] pred = new float[batch * model.outputShape(0).size()];
            e.readOutput(1, pred);
            String where = passes.isEmpty() ? "without passes" : "with passes";
            close("loss " + where, expected.get(0), new float[] {e.outputScalar(0)}, 1e-5);
            close("predictions " + where, expected.get(1), pred, 1e-5);
            for (Variable v : p.variables()) close(v.name() + " " + where, reference.variable(v), v.value(), 1e-4);
        }
    }

    // Tolerance: float32 kernels against double; Adam's normalised step amplifies rounding in tiny
    // gradients, hence 1e-4 (relative, floor 1e-3) for updated variables.
    private static void close(String what, double[] expected, float[] actual, double tol) {
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]) / Math.max(1e-3, Math.abs(expected[i]));
            assertTrue(err <= tol, what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i] + " (relative error " + err + ")");
        }
    }
}
