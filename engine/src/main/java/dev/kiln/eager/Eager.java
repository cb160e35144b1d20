package dev.kiln.eager;

import dev.kiln.backend.Backend;
import dev.kiln.graph.Constant;
import dev.kiln.graph.Effect;
import dev.kiln.graph.Full;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Param;

import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Op-by-op evaluation of graphs whose leaves hold their data (eager mode), and the choice of the backend
 * it runs on. The choice is explicit and said: {@link #use} sets it for the process, {@link #on} for one
 * piece of code on this thread (a scoped value, so nested and concurrent uses do not see each other);
 * otherwise {@link Backend#auto()} chooses on first use, which {@code -Dkiln.backend=cpu} forces.
 *
 * <pre>{@code
 * Eager.use(new CpuBackend());                                        // every eager op from now on
 * float y = Eager.on(new CpuBackend(), () -> a.matmul(a).sum().item()); // just this computation
 * }</pre>
 */
public final class Eager {
    private static final System.Logger LOG = System.getLogger("dev.kiln.eager");
    private static final ScopedValue<Backend> SCOPED = ScopedValue.newInstance();
    private static volatile Backend chosen;

    private Eager() {}

    /** The backend eager ops run on here: the one of an enclosing {@link #on}, else the one {@link #use} set, else {@link Backend#auto()} (chosen once). */
    public static Backend backend() {
        if (SCOPED.isBound()) return SCOPED.get();
        Backend b = chosen;
        if (b == null) {
            synchronized (Eager.class) {
                if (chosen == null) chosen = Backend.auto();
                b = chosen;
            }
        }
        return b;
    }

    /** Runs every eager op of the process on {@code b} from now on (logged at INFO, so the change is never silent). */
    public static void use(Backend b) {
        if (b == null) throw new IllegalArgumentException("Eager.use needs a backend, e.g. new CpuBackend() or Backend.named(\"cpu\")");
        synchronized (Eager.class) { chosen = b; }
        LOG.log(Level.INFO, "eager ops run on backend " + b.name() + " (Eager.use)");
    }

    /** Drops the process-wide choice, so that the next op asks {@link Backend#auto()} again: for tests that called {@link #use}. */
    static void forget() {
        synchronized (Eager.class) { chosen = null; }
    }

    /** Runs {@code body} with this thread's eager ops on {@code b}, and returns its result; other threads keep theirs. */
    public static <T> T on(Backend b, Callable<T> body) throws Exception {
        if (b == null) throw new IllegalArgumentException("Eager.on needs a backend, e.g. new CpuBackend() or Backend.named(\"cpu\")");
        return ScopedValue.where(SCOPED, b).call(body::call);
    }

    /** Runs every node of {@code g} once, in order, with one kernel each; effects are applied last. */
    public static Map<Node, float[]> evaluate(Graph g) {
        Backend backend = backend();
        Map<Node, float[]> values = new HashMap<>();
        for (Node n : g.schedule()) {
            float[] v = switch (n.op()) {
                case Constant c -> c.data();
                case Param p -> p.variable().value();
                case Full f -> { float[] a = new float[f.shape().size()]; Arrays.fill(a, (float) f.value()); yield a; }
                default -> {
                    if (n.inputs().isEmpty()) throw new IllegalArgumentException(n.describe() + " has no value in eager mode: feed inputs through a compiled program");
                    float[][] in = new float[n.inputs().size()][];
                    for (int i = 0; i < in.length; i++) in[i] = values.get(n.input(i));
                    float[] out = n.op() instanceof Effect ? null : new float[n.shape().size()];
                    backend.evaluate(n, in, out);
                    yield out;
                }
            };
            values.put(n, v);
        }
        return values;
    }
}
