package dev.kiln.optim;

import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.Map;

/**
 * RMSprop (plain; centered with momentum and weight decay) and gradient clipping (global norm over
 * two parameters; value) against torch.optim.RMSprop and torch.nn.utils.clip_grad_*_ over three
 * steps, run through the double-precision reference interpreter.
 */
class RMSpropFixtureTest {
    // Tolerance: the fixture holds float64 results rounded once to float32 and the interpreter
    // starts from the same float32 inputs in double, so only float32 rounding (~6e-8 relative) of
    // the stored values separates them; 1e-5 relative leaves room for the division by sqrt(s) + eps
    // amplifying that rounding, with an absolute floor of 1e-7 for slot values near zero.
    private static final double REL = 1e-5, ABS = 1e-7;

    @ParameterizedTest
    @ValueSource(strings = {"optim_rmsprop", "optim_rmsprop_centered_momentum", "optim_rmsprop_clip_norm", "optim_rmsprop_clip_value"})
    void threeStepsMatchPyTorchOnTheReferenceInterpreter(String name) {
        OptimizerFixtures.Replay replay = OptimizerFixtures.rmspropReplay(name);
        Interpreter interpreter = new Interpreter();
        for (int t = 1; t <= replay.steps(); t++) {
            Map<Node, double[]> feeds = new HashMap<>();
            for (int k = 0; k < replay.params().size(); k++) feeds.put(replay.inputs().get(k), toDouble(replay.gradient(k, t)));
            feeds.put(replay.inputs().getLast(), new double[] {replay.learningRate()});
            interpreter.run(replay.graph(), feeds);
            replay.assertStep(t, v -> toFloat(interpreter.variable(v)), REL, ABS);
        }
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
