package dev.kiln.compile;

import dev.kiln.graph.Effect;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Leaf;
import dev.kiln.graph.Node;
import dev.kiln.graph.View;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Graph to {@link Program}: the passes in order (verified between them when assertions or
 * {@code -Dkiln.verify=true} are on), then the schedule (values first, in-place updates last),
 * the memory plan, and one instruction per value that is not a leaf or a reshape (a view), plus
 * one per in-place update.
 *
 * <pre>{@code
 * Program p = Compiler.compile(Graph.of(loss), Compiler.Options.defaults().withCheckNumerics(true));
 * System.out.print(p.dump());
 * }</pre>
 */
public final class Compiler {
    /** System property that turns verification between passes on without assertions. */
    public static final String VERIFY_PROPERTY = "kiln.verify";

    private Compiler() {}

    /**
     * @param passes        run in this order
     * @param checkNumerics executables check each instruction's output for NaN/Inf
     * @param inputs        the program's input order (Placeholder nodes, matched by name and shape);
     *                      empty: order of first appearance in the schedule
     * @param precision     what products read: anything but F32 runs {@link AutoCast} before {@code passes},
     *                      and the program carries it so a backend can pick its GEMM math mode
     */
    public record Options(List<Pass> passes, boolean checkNumerics, List<Node> inputs, Precision precision) {
        public Options {
            passes = List.copyOf(passes);
            inputs = List.copyOf(inputs);
            Objects.requireNonNull(precision, "precision");
        }

        public static Options defaults() { return new Options(defaultPasses(), false, List.of(), Precision.F32); }

        public Options withPasses(List<Pass> p) { return new Options(p, checkNumerics, inputs, precision); }
        public Options withCheckNumerics(boolean c) { return new Options(passes, c, inputs, precision); }
        public Options withInputs(List<Node> in) { return new Options(passes, checkNumerics, in, precision); }
        public Options withPrecision(Precision p) { return new Options(passes, checkNumerics, inputs, p); }
    }

    /**
     * The standard pipeline. Fused training ops are expanded first (what a backend without a kernel for them
     * needs: {@link ExpandBatchNormGrad}); CSE runs next so that folding and simplification see each value once,
     * and again after them because their rewrites make new equal nodes; fusion runs last, on the
     * smallest graph: first matmul + bias + activation into one GEMM with an epilogue, then elementwise chains.
     */
    public static List<Pass> defaultPasses() {
        List<Pass> passes = new ArrayList<>(List.of(new ExpandBatchNormGrad()));
        passes.addAll(fusedPasses());
        return List.copyOf(passes);
    }

    /**
     * The standard pipeline without {@link ExpandBatchNormGrad}: for a backend that lowers the fused training ops
     * ({@link dev.kiln.graph.BatchNormGrad}) itself, as CUDA does ({@link dev.kiln.backend.Backend#passes()}). After the
     * first CSE, {@link BatchNormGradOfCentered} lets each such op read the centred x the graph already holds, so that x
     * itself dies after the forward pass (a no-op once the ops are expanded).
     */
    public static List<Pass> fusedPasses() {
        return List.of(new DuplicateEffectRemoval(), new CommonSubexpressionElimination(), new BatchNormGradOfCentered(), new ConstantFolding(),
                new AlgebraicSimplification(), new CommonSubexpressionElimination(), new LinearFusion(), new ElementwiseFusion());
    }

    public static Program compile(Graph g) { return compile(g, Options.defaults()); }

    public static Program compile(Graph g, Options opts) {
        Graph h = optimize(g, opts);
        List<Node> schedule = h.schedule();
        MemoryPlanner.Plan plan = MemoryPlanner.plan(schedule, h.outputs(), opts.inputs());
        List<Instruction> instructions = new ArrayList<>();
        for (Node n : schedule) {
            if (n.op() instanceof Leaf || n.op() instanceof View) continue;
            List<Slot> ins = new ArrayList<>(n.inputs().size());
            for (Node in : n.inputs()) ins.add(plan.slot(in));
            instructions.add(new Instruction(n, ins, n.op() instanceof Effect ? null : plan.slot(n)));
        }
        List<Slot> outputs = new ArrayList<>(h.outputs().size());
        for (Node o : h.outputs()) outputs.add(plan.slot(o));
        return new Program(instructions, plan.inputs(), outputs, plan.variables(), plan.constants(), plan.arenaSize(), opts.checkNumerics(), opts.precision());
    }

    /** Runs the passes of {@code opts} over {@code g}, verifying after each when {@link #verifying()}. */
    public static Graph optimize(Graph g, Options opts) {
        Objects.requireNonNull(g, "graph");
        boolean verify = verifying();
        if (verify) Verifier.verify("input", g);
        Graph cur = g;
        for (Pass p : AutoCast.passesFor(opts.precision(), opts.passes())) {
            Graph next = p.run(cur);
            if (verify) Verifier.verify(p.name(), cur, next);
            cur = next;
        }
        return cur;
    }

    /** Whether passes are verified: with assertions on ({@code -ea}) or {@code -Dkiln.verify=true}. */
    public static boolean verifying() {
        return Boolean.getBoolean(VERIFY_PROPERTY) || Compiler.class.desiredAssertionStatus();
    }
}
