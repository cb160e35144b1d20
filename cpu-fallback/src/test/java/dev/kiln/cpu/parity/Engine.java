package dev.kiln.cpu.parity;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.cpu.CpuBackend;
import dev.kiln.cpu.CpuKernels;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The three ways a parity test evaluates one Kiln graph: compiled on the CPU backend with the Vector API
 * kernels, compiled with the scalar twins everywhere, and the double-precision reference interpreter
 * (whose results are rounded to float once, for comparison). A {@link Runner} keeps its state across
 * runs, so optimizer steps can be taken one after another.
 */
enum Engine {
    VECTOR, SCALAR, INTERPRETER;

    /** Runs a fixed graph repeatedly: feed values for {@code inputs} in order, get the outputs in order. */
    interface Runner {
        List<float[]> run(List<float[]> feeds);

        /** The current value of a variable the graph reads or updates. */
        float[] variable(Variable v);
    }

    Runner runner(Graph g, List<Node> inputs) {
        return switch (this) {
            case VECTOR -> compiled(new CpuBackend(), g, inputs);
            case SCALAR -> compiled(new CpuBackend(CpuKernels.scalar()), g, inputs);
            case INTERPRETER -> interpreted(g, inputs);
        };
    }

    /** One run of {@code g} with fresh state. */
    List<float[]> run(Graph g, List<Node> inputs, List<float[]> feeds) { return runner(g, inputs).run(feeds); }

    private static Runner compiled(CpuBackend backend, Graph g, List<Node> inputs) {
        Executable exec = backend.compile(Compiler.compile(g, Compiler.Options.defaults().withInputs(inputs)));
        return new Runner() {
            @Override public List<float[]> run(List<float[]> feeds) {
                for (int i = 0; i < feeds.size(); i++) exec.setInput(i, feeds.get(i));
                exec.run();
                List<float[]> out = new ArrayList<>();
                for (int i = 0; i < g.outputs().size(); i++) {
                    float[] dst = new float[g.outputs().get(i).shape().size()];
                    exec.readOutput(i, dst);
                    out.add(dst);
                }
                return out;
            }

            @Override public float[] variable(Variable v) {
                exec.syncVariables();
                return v.value().clone();
            }
        };
    }

    private static Runner interpreted(Graph g, List<Node> inputs) {
        Interpreter interpreter = new Interpreter();
        return new Runner() {
            @Override public List<float[]> run(List<float[]> feeds) {
                Map<Node, double[]> fed = new HashMap<>();
                for (int i = 0; i < feeds.size(); i++) fed.put(inputs.get(i), widen(feeds.get(i)));
                List<float[]> out = new ArrayList<>();
                for (double[] d : interpreter.run(g, fed)) out.add(narrow(d));
                return out;
            }

            @Override public float[] variable(Variable v) { return narrow(interpreter.variable(v)); }
        };
    }

    static double[] widen(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    static float[] narrow(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
