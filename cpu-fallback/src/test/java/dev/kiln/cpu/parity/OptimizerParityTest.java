package dev.kiln.cpu.parity;

import dev.kiln.graph.AdamUpdate;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.SgdUpdate;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import dev.kiln.testing.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static dev.kiln.cpu.parity.Parity.*;
import static dev.kiln.graph.Ops.*;

/**
 * Three steps of Adam, Adam with L2 weight decay, AdamW, SGD with momentum and Nesterov SGD, as the in-place
 * update ops on variables with the learning rate and step counter as program inputs, against torch.optim.
 * The parameter and every slot (m, v or velocity) are compared after each step. Tolerance: relative 1e-5
 * (each value is a few roundings per step), with an absolute floor of 1e-7 for slots that pass near 0.
 */
class OptimizerParityTest {
    // RMSprop fixtures (optim_rmsprop*) have their own test (RMSpropOnCpuMatchesPyTorchTest in examples)
    static List<Arguments> cases() {
        return Parity.cases("optim_").stream().filter(a -> !((String) a.get()[0]).startsWith("optim_rmsprop")).toList();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void threeStepsMatchTorchOptim(String name, Engine engine) {
        Fixture fx = Fixture.load(name);
        Shape shape = fx.shape("param0");
        boolean adam = fx.attr("kind").startsWith("adam");
        Variable p = new Variable("p", shape, fx.get("param0"), true);
        Variable s1 = Variable.zeros(adam ? "m" : "velocity", shape), s2 = Variable.zeros("v", shape);
        Node g = input("g", shape), lr = input("lr", Shape.SCALAR), step = input("step", Shape.SCALAR);
        Node update = adam
                ? adamUpdate(param(p), g, param(s1), param(s2), lr, step, new AdamUpdate(fx.doubleAttr("beta1"), fx.doubleAttr("beta2"),
                        fx.doubleAttr("epsilon"), fx.doubleAttr("weight_decay"), fx.boolAttr("decoupled")))
                : sgdUpdate(param(p), g, param(s1), lr, new SgdUpdate(fx.doubleAttr("momentum"), fx.boolAttr("nesterov"), fx.doubleAttr("weight_decay")));
        Engine.Runner runner = engine.runner(new Graph(List.of(), List.of(update)), List.of(g, lr, step));
        float[] lrValue = {(float) fx.doubleAttr("lr")};

        Tol tol = new Tol(1e-5, 1e-7, "a few roundings per step");
        for (int t = 1; t <= fx.intAttr("steps"); t++) {
            runner.run(List.of(fx.get("g" + t), lrValue, new float[] {t}));
            check("optim", engine, fx, "param" + t, runner.variable(p), tol);
            if (adam) {
                check("optim", engine, fx, "m" + t, runner.variable(s1), tol);
                check("optim", engine, fx, "v" + t, runner.variable(s2), tol);
            } else {
                check("optim", engine, fx, "velocity" + t, runner.variable(s1), tol);
            }
        }
    }

    @AfterAll
    static void report() { Parity.report("optim"); }
}
