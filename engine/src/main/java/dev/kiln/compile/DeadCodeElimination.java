package dev.kiln.compile;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Removes what a graph carries but never needs. Values are already reachability-based: a graph is
 * its outputs and effects, and {@link Graph#schedule()} visits only nodes they read, so an unused
 * value never reaches a program. What is left to remove is a repeated in-place update: the same
 * effect node listed twice runs once (the schedule visits a node once), so listing it twice only
 * misleads readers and passes that count effects. Outputs are positional and stay as they are,
 * duplicates included: the caller reads output {@code i}.
 */
public final class DeadCodeElimination implements Pass {
    public String name() { return "dce"; }

    public Graph run(Graph g) {
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Node> effects = new ArrayList<>(g.effects().size());
        for (Node e : g.effects()) if (seen.add(e)) effects.add(e);
        return effects.size() == g.effects().size() ? g : new Graph(g.outputs(), effects);
    }
}
