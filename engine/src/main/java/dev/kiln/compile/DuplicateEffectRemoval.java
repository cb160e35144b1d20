package dev.kiln.compile;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Lists each effect once: the same in-place update node listed twice runs once (the schedule visits a
 * node once), so listing it twice only misleads readers and passes that count effects. Outputs are
 * positional and stay as they are, duplicates included: the caller reads output {@code i}.
 *
 * <p>There is no dead-code elimination pass, because none is needed: a graph is its outputs and effects,
 * and {@link Graph#schedule()} visits only the nodes they read, so a value nothing reads never reaches
 * a program (tested in {@code DuplicateEffectRemovalTest}).
 */
public final class DuplicateEffectRemoval implements Pass {
    public String name() { return "duplicate-effects"; }

    public Graph run(Graph g) {
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Node> effects = new ArrayList<>(g.effects().size());
        for (Node e : g.effects()) if (seen.add(e)) effects.add(e);
        return effects.size() == g.effects().size() ? g : new Graph(g.outputs(), effects);
    }
}
