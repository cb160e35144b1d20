package dev.kiln.optim;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import dev.kiln.testing.Fixture;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Replays an RMSprop fixture (bench/python/make_fixtures.py, kind "rmsprop") as a Kiln update graph:
 * one variable per PyTorch parameter (prefix "" and, for two-parameter cases, "q_"), the gradients
 * and the learning rate as program inputs. Shared by the interpreter test here and the CPU-backend
 * test in examples, so both check the same thing.
 */
public final class OptimizerFixtures {
    private OptimizerFixtures() {}

    /** The update graph; inputs are the gradients in parameter order, then lr. */
    public record Replay(Fixture fixture, RMSprop optimizer, List<String> prefixes, List<Variable> params, Graph graph, List<Node> inputs) {
        public int steps() { return fixture.intAttr("steps"); }

        /** The gradient fed for parameter {@code k} at step {@code t} (1-based), as PyTorch saw it before clipping. */
        public float[] gradient(int k, int t) { return fixture.get(prefixes.get(k) + "g" + t); }

        public double learningRate() { return fixture.doubleAttr("lr"); }

        /** Fails unless each parameter and each slot after step t matches PyTorch's, read through {@code read}. */
        public void assertStep(int t, Function<Variable, float[]> read, double relTol, double absTol) {
            for (int k = 0; k < params.size(); k++) {
                String prefix = prefixes.get(k);
                Variable p = params.get(k);
                fixture.assertClose(prefix + "param" + t, read.apply(p), relTol, absTol);
                for (Variable s : optimizer.slots()) {
                    if (!s.name().startsWith(p.name() + "/")) continue;
                    String key = switch (s.name().substring(p.name().length() + 1)) {
                        case "rmsprop_square_avg" -> "square_avg";
                        case "rmsprop_grad_avg" -> "grad_avg";
                        case "rmsprop_momentum" -> "momentum_buffer";
                        default -> throw new AssertionError("unexpected slot " + s.name());
                    };
                    fixture.assertClose(prefix + key + t, read.apply(s), relTol, absTol);
                }
            }
        }
    }

    public static RMSprop rmsprop(Fixture fx) {
        RMSprop opt = RMSprop.lr(fx.doubleAttr("lr")).rho(fx.doubleAttr("alpha")).epsilon(fx.doubleAttr("eps"))
                .momentum(fx.doubleAttr("momentum")).weightDecay(fx.doubleAttr("weight_decay"));
        if (fx.boolAttr("centered")) opt = opt.centered();
        if (fx.doubleAttr("clip_norm") > 0) opt = opt.clipNorm(fx.doubleAttr("clip_norm"));
        if (fx.doubleAttr("clip_value") > 0) opt = opt.clipValue(fx.doubleAttr("clip_value"));
        return opt;
    }

    public static Replay rmspropReplay(String name) {
        Fixture fx = Fixture.load(name);
        if (!fx.attr("kind").equals("rmsprop")) throw new IllegalArgumentException(name + " is not an RMSprop fixture");
        RMSprop opt = rmsprop(fx);
        List<String> prefixes = fx.intAttr("params") == 2 ? List.of("", "q_") : List.of("");
        List<Variable> params = new ArrayList<>();
        List<Node> grads = new ArrayList<>();
        for (String prefix : prefixes) {
            Shape shape = fx.shape(prefix + "param0");
            params.add(new Variable(prefix + "w", shape, fx.get(prefix + "param0"), true));
            grads.add(Ops.input(prefix + "g", shape));
        }
        Node lr = Ops.input("lr", Shape.SCALAR);
        Node step = Ops.input("step", Shape.SCALAR); // RMSprop ignores it; not a program input
        List<Node> effects = opt.updates(params, grads, lr, step);
        List<Node> inputs = new ArrayList<>(grads);
        inputs.add(lr);
        return new Replay(fx, opt, prefixes, params, new Graph(List.of(), effects), inputs);
    }
}
