package dev.kiln.compile;

import dev.kiln.graph.Graph;

/**
 * One graph-to-graph rewrite of the compiler. A pass returns a graph with the same outputs (in
 * number, order and shape) and the same in-place updates; {@link Verifier} checks that between
 * passes. A pass that changes nothing returns its argument.
 *
 * <pre>{@code Graph g2 = new CommonSubexpressionElimination().run(g); }</pre>
 */
public interface Pass {
    /** Short name for logs and verifier messages ("cse", "fuse_elementwise"). */
    String name();

    Graph run(Graph g);
}
