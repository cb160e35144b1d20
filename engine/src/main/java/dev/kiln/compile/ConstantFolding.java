package dev.kiln.compile;

import dev.kiln.graph.Constant;
import dev.kiln.graph.Effect;
import dev.kiln.graph.Full;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Interpreter;
import dev.kiln.graph.Leaf;
import dev.kiln.graph.Node;

import java.util.List;
import java.util.Map;

/**
 * Evaluates, once at compile time, every value that depends only on {@code Full} and
 * {@code Constant} leaves (no input, no variable), with the reference {@link Interpreter}. Bottom-up
 * in schedule order, so a whole constant subgraph collapses into one leaf. A uniform result becomes
 * a {@code Full} (no data to store, equal fills merge under CSE, and the value keeps double
 * precision); any other result becomes a {@code Constant} rounded to f32, the precision programs
 * compute in.
 */
public final class ConstantFolding implements Pass {
    public String name() { return "fold_constants"; }

    public Graph run(Graph g) {
        return Rebuild.map(g, (n, ins) -> {
            if (n.op() instanceof Leaf || n.op() instanceof Effect || !allConstant(ins)) return Rebuild.withInputs(n, ins);
            double[] v = new Interpreter().evaluate(Rebuild.withInputs(n, ins), Map.of());
            return Rebuild.node(n, uniform(v) ? new Full(n.shape(), v[0]) : new Constant(n.shape(), toFloat(v)), List.of());
        });
    }

    private static boolean allConstant(List<Node> ins) {
        for (Node in : ins) if (!(in.op() instanceof Full || in.op() instanceof Constant)) return false;
        return true;
    }

    private static boolean uniform(double[] v) {
        long first = Double.doubleToLongBits(v[0]);
        for (double x : v) if (Double.doubleToLongBits(x) != first) return false;
        return true;
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
