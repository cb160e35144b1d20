package dev.kiln.optim;

import dev.kiln.graph.Variable;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Optimizer state read from a model file, waiting for the optimizer to make its slots: when the next
 * training program is built, {@link #applyTo} checks that the optimizer made exactly these slots with
 * these shapes and copies the saved values in (PyTorch's {@code optimizer.load_state_dict}).
 */
public final class SavedSlots {
    private Map<String, Variable> pending;

    /** Holds {@code slots} until the next {@link #applyTo}; an empty list drops pending state. */
    public void hold(List<Variable> slots) {
        Map<String, Variable> m = new LinkedHashMap<>();
        for (Variable v : slots) m.put(v.name(), v);
        pending = m.isEmpty() ? null : m;
    }

    /** The slots waiting to be applied, or null when none wait. */
    public List<Variable> pending() { return pending == null ? null : List.copyOf(pending.values()); }

    /** Copies the held values into the slots {@code optimizer} has made (model {@code owner} names the error), then holds nothing. */
    public void applyTo(Optimizer optimizer, String owner) {
        if (pending == null) return;
        Map<String, Variable> made = new LinkedHashMap<>();
        for (Variable v : optimizer.slots()) made.put(v.name(), v);
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>();
        for (String n : pending.keySet()) if (!made.containsKey(n)) missing.add(n);
        for (String n : made.keySet()) if (!pending.containsKey(n)) unexpected.add(n);
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalStateException("model '" + owner + "' holds saved optimizer state that does not fit " + optimizer.getClass().getSimpleName()
                    + ": saved slots the optimizer does not make: " + missing + "; slots it makes that were not saved: " + unexpected
                    + ". Compile with the optimizer the model was saved with and the same trainable layers, or call restoreOptimizerState(List.of()) to start the optimizer afresh");
        }
        for (Variable saved : pending.values()) {
            Variable v = made.get(saved.name());
            if (!v.shape().equals(saved.shape())) {
                throw new IllegalStateException("saved optimizer slot '" + saved.name() + "' has shape " + saved.shape() + ", but the optimizer's slot has shape " + v.shape());
            }
        }
        for (Variable saved : pending.values()) made.get(saved.name()).assign(saved.value());
        pending = null;
    }
}
