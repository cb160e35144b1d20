package dev.kiln.cpu;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;
import dev.kiln.optim.Adam;
import dev.kiln.optim.Optimizer;
import dev.kiln.optim.RMSprop;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Every optimizer's updates made conditional on an apply flag (dynamic loss scaling's skipped step): on the CPU
 * backend a 0 flag writes no weight and no slot even when the gradient holds infinities and a NaN (as a skipped step's
 * does), and a 1 flag gives the unconditional update's bits; the reference
 * interpreter agrees. Adam and SGD are fused ops with a flag input; RMSprop is composed (its assigns keep the old value).
 */
class ConditionalUpdateTest {
    private static final Shape SHAPE = Shape.of(3, 70);   // 210 elements: a vector body and a scalar tail

    /** Runs two steps of {@code opt} on a fresh weight, with the apply flag fed {@code flag} (null: unconditional; 0: a non-finite gradient); returns the weight and slots. */
    private static List<float[]> twoSteps(Optimizer opt, Float flag, boolean interpreter) {
        float[] grad = data()[1];
        // a skipped step is skipped because its gradient is not finite: fed one, in the vector body and in the tail
        if (flag != null && flag == 0f) { grad[5] = Float.POSITIVE_INFINITY; grad[100] = Float.NaN; grad[209] = Float.NEGATIVE_INFINITY; }
        Variable w = new Variable("w", SHAPE, data()[0], true);
        Node g = Ops.input("g", SHAPE), lr = Ops.input("lr", Shape.SCALAR), step = Ops.input("step", Shape.SCALAR);
        Node apply = flag == null ? null : Ops.input("apply", Shape.SCALAR);
        Graph graph = new Graph(List.of(), opt.updates(List.of(w), List.of(g), lr, step, apply));
        List<Node> ins = new ArrayList<>(List.of(g, lr, step));
        if (apply != null) ins.add(apply);
        List<Variable> state = new ArrayList<>(List.of(w));
        state.addAll(opt.slots());
        if (interpreter) {
            Interpreter in = new Interpreter();
            for (int t = 1; t <= 2; t++) {
                Map<Node, double[]> feeds = new HashMap<>(Map.of(g, toDouble(grad), lr, new double[] {0.05}, step, new double[] {t}));
                if (apply != null) feeds.put(apply, new double[] {flag});
                in.run(graph, feeds);
            }
            List<float[]> out = new ArrayList<>();
            for (Variable v : state) out.add(toFloat(in.variable(v)));
            return out;
        }
        Executable e = new CpuBackend().compile(Compiler.compile(graph, Compiler.Options.defaults().withInputs(ins)));
        for (int t = 1; t <= 2; t++) {
            e.setInput(e.program().inputSlot("g"), grad);
            e.setInput(e.program().inputSlot("lr"), new float[] {0.05f});
            e.setInput(e.program().inputSlot("step"), new float[] {t});
            if (apply != null) e.setInput(e.program().inputSlot("apply"), new float[] {flag});
            e.run();
        }
        List<float[]> out = new ArrayList<>();
        for (Variable v : state) out.add(v.value().clone());
        return out;
    }

    /** The weight's start and the gradient fed at each step. */
    private static float[][] data() {
        Random r = new Random(9);
        float[] w0 = new float[SHAPE.size()], grad = new float[SHAPE.size()];
        for (int i = 0; i < w0.length; i++) { w0[i] = (float) r.nextGaussian(); grad[i] = (float) r.nextGaussian() * 0.1f; }
        return new float[][] {w0, grad};
    }

    private static double[] toDouble(float[] a) { double[] d = new double[a.length]; for (int i = 0; i < a.length; i++) d[i] = a[i]; return d; }
    private static float[] toFloat(double[] a) { float[] f = new float[a.length]; for (int i = 0; i < a.length; i++) f[i] = (float) a[i]; return f; }

    private static void check(java.util.function.Supplier<Optimizer> make) {
        for (boolean interpreter : new boolean[] {false, true}) {
            String where = interpreter ? "interpreter" : "CPU backend";
            List<float[]> always = twoSteps(make.get(), null, interpreter), applied = twoSteps(make.get(), 1f, interpreter),
                    skipped = twoSteps(make.get(), 0f, interpreter);
            assertEquals(always.size(), applied.size(), where);
            for (int i = 0; i < always.size(); i++) assertArrayEquals(always.get(i), applied.get(i), where + ": state " + i + " with the flag 1 vs unconditional");
            assertArrayEquals(data()[0], skipped.get(0), where + ": two steps with the flag 0 moved the weight");
            assertFalse(Arrays.equals(data()[0], always.get(0)), where + ": the unconditional steps did not move the weight");
            // slots start at zeros; SGD without momentum has none
            for (int i = 1; i < skipped.size(); i++) assertArrayEquals(new float[SHAPE.size()], skipped.get(i), where + ": a skipped step wrote slot " + i);
        }
    }

    @Test void adamFollowsTheFlag() { check(() -> Adam.lr(1e-2)); }
    @Test void adamWFollowsTheFlag() { check(() -> Adam.lr(1e-2).adamW(0.01)); }
    @Test void sgdWithNesterovMomentumFollowsTheFlag() { check(() -> Sgd.lr(1e-2).momentum(0.9).nesterov().weightDecay(1e-3)); }
    @Test void plainSgdFollowsTheFlag() { check(() -> Sgd.lr(1e-2)); }
    @Test void centeredRmspropWithMomentumFollowsTheFlag() { check(() -> RMSprop.lr(1e-2).momentum(0.9).centered()); }
}
