package dev.kiln.compile;

import dev.kiln.graph.Fused;
import dev.kiln.graph.Effect;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Param;
import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Checks that a pass kept a graph well formed and meaning the same thing, as far as structure can
 * tell: every node's shape re-infers from its inputs' shapes, no node reads an in-place update as a
 * value, fused steps index only earlier values, the outputs keep their number and shapes, and the
 * same variables are still updated. Throws {@link IllegalStateException} naming the pass and the node.
 *
 * <pre>{@code Verifier.verify("cse", before, after); }</pre>
 */
public final class Verifier {
    private Verifier() {}

    /** Checks {@code after} on its own and against the graph {@code before} the pass named {@code pass}. */
    public static void verify(String pass, Graph before, Graph after) {
        verify(pass, after);
        if (before.outputs().size() != after.outputs().size()) {
            throw fail(pass, "the graph had " + before.outputs().size() + " outputs and now has " + after.outputs().size());
        }
        for (int i = 0; i < before.outputs().size(); i++) {
            Shape was = before.outputs().get(i).shape(), is = after.outputs().get(i).shape();
            if (!was.equals(is)) throw fail(pass, "output " + i + " had shape " + was + " and now has " + is + " (" + after.outputs().get(i).describe() + ")");
        }
        Set<Variable> wrote = updated(before), writes = updated(after);
        if (!wrote.equals(writes)) throw fail(pass, "the graph updated " + wrote + " and now updates " + writes);
    }

    /** Checks one graph's internal consistency. */
    public static void verify(String pass, Graph g) {
        for (Node n : g.schedule()) {
            List<Shape> shapes = new ArrayList<>(n.inputs().size());
            for (Node in : n.inputs()) {
                if (in.op() instanceof Effect) throw fail(pass, n.describe() + " reads the in-place update " + in.describe() + " as a value");
                shapes.add(in.shape());
            }
            Shape inferred;
            try {
                inferred = n.op().inferShape(shapes);
            } catch (RuntimeException e) {
                throw fail(pass, n.describe() + " no longer type-checks over its inputs " + shapes + ": " + e.getMessage());
            }
            if (!inferred.equals(n.shape())) {
                throw fail(pass, n.describe() + " has shape " + n.shape() + " but its inputs " + shapes + " give " + inferred);
            }
            if (n.op() instanceof Fused f) checkSteps(pass, n, f);
        }
    }

    private static void checkSteps(String pass, Node n, Fused f) {
        if (f.steps().isEmpty()) throw fail(pass, n.describe() + " has no steps");
        int available = n.inputs().size();
        for (Fused.Step s : f.steps()) {
            for (int a : s.args()) {
                if (a < 0 || a >= available) throw fail(pass, n.describe() + " step " + (available - n.inputs().size()) + " reads value " + a + " of " + available + " available");
            }
            available++;
        }
    }

    /** The variables that the graph's in-place updates write (param and optimizer slots). */
    private static Set<Variable> updated(Graph g) {
        Set<Variable> vs = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Node e : g.effects()) {
            List<Integer> written = e.op() instanceof Effect effect ? effect.writes() : List.of();
            if (written.isEmpty()) throw fail("verify", e.describe() + " is an in-place update that declares no written inputs (Effect.writes)");
            for (int i : written) if (e.input(i).op() instanceof Param p) vs.add(p.variable());
        }
        return vs;
    }

    private static IllegalStateException fail(String pass, String why) {
        return new IllegalStateException("after pass '" + pass + "': " + why);
    }
}
