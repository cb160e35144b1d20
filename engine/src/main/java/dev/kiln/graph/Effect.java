package dev.kiln.graph;

import java.util.List;

/**
 * In-place updates of variables (optimizer steps, assignments): no value and no gradient. A {@link Graph} lists
 * them apart from its outputs and runs them after every value is computed, so they never clobber a variable
 * that is still to be read; no node may read one as an input.
 */
public sealed interface Effect extends Op permits SgdUpdate, AdamUpdate, Assign {
    /** The inputs it writes in place; each must read a variable ({@link Param}). Never empty. */
    List<Integer> writes();
}
