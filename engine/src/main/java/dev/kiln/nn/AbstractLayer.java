package dev.kiln.nn;

import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;

import java.util.ArrayList;
import java.util.List;

/**
 * Bookkeeping every layer shares: its name, trainable flag and weights. {@code L} is the layer's own
 * class, so that withers keep it: {@code Dense.of(64).named("fc").relu()} is a {@code Dense} named "fc".
 *
 * <p>Every wither returns a copy: {@link #named} copies this layer, and a layer's own withers build a
 * new layer and pass it through {@link #keepName} so the name and trainable flag carry over.
 */
public abstract class AbstractLayer<L extends AbstractLayer<L>> implements Layer, Cloneable {
    private String name;
    private boolean trainable = true;
    private List<Variable> weights = new ArrayList<>();
    private Shape builtFor;

    @Override public String name() { return name == null ? defaultName() : name; }

    /** A copy of this layer named {@code n} (unique within its model); this layer keeps its own name. */
    public final L named(String n) {
        if (n == null || n.isBlank()) throw new IllegalArgumentException(type() + " layer: a name must not be empty");
        if (builtFor != null) {
            throw new IllegalStateException(type() + " layer '" + name() + "' is already built; name layers when creating them, before they join a model");
        }
        L copy = copy();
        AbstractLayer<L> c = copy;
        c.name = n;
        return copy;
    }

    /**
     * {@code copy}, a new layer a wither of this one made, with this layer's name and trainable flag:
     * {@code public Dense relu() { return keepName(new Dense(...)); }}.
     */
    protected final L keepName(L copy) {
        AbstractLayer<L> c = copy;
        c.name = name;
        c.trainable = trainable;
        return copy;
    }

    /** A field-by-field copy of this unbuilt layer with its own (empty) weight list. */
    private L copy() {
        try {
            @SuppressWarnings("unchecked") // Object.clone of an L is an L
            L c = (L) super.clone();
            AbstractLayer<L> a = c;
            a.weights = new ArrayList<>();
            return c;
        } catch (CloneNotSupportedException e) {
            throw new AssertionError("AbstractLayer implements Cloneable", e);
        }
    }

    void assignNameIfMissing(String n) { if (name == null) name = n; }

    boolean hasName() { return name != null; }

    protected String defaultName() { return type().toLowerCase(); }

    @Override public boolean trainable() { return trainable; }

    @Override public void setTrainable(boolean t) {
        trainable = t;
        for (Variable v : weights) if (isTrainableWeight(v)) v.setTrainable(t);
    }

    /** Whether {@code v} is one the optimizer may update when the layer is trainable (not moving statistics). */
    protected boolean isTrainableWeight(Variable v) { return true; }

    @Override public List<Variable> weights() {
        built(this);
        return List.copyOf(weights);
    }

    /** {@code weight}, once the layer is built; before, an error that says when weights come to exist (instead of a null). */
    protected <T> T built(T weight) {
        if (builtFor == null) {
            throw new IllegalStateException(type() + " layer '" + name() + "' has no weights yet: they are created when its model is built "
                    + "(model.build(), or on compile, summary, fit or predict); build the model before reading or setting them");
        }
        return weight;
    }

    @Override public final void build(Shape input, BuildContext ctx) {
        if (builtFor != null) {
            if (!builtFor.equals(input)) throw new ShapeException(type() + " layer '" + name() + "' was built for input " + builtFor + " and cannot take " + input);
            return;
        }
        outputShape(input);
        createWeights(input, ctx);
        builtFor = input;
    }

    public boolean isBuilt() { return builtFor != null; }

    /** Creates the layer's weights through {@link #addWeight}; nothing for weightless layers. */
    protected void createWeights(Shape input, BuildContext ctx) {}

    protected Variable addWeight(BuildContext ctx, String n, Shape shape, Initializer init, boolean trainableWeight) {
        Variable v = ctx.weight(n, shape, init, trainableWeight && trainable);
        weights.add(v);
        return v;
    }

    /** A shape error naming this layer and both shapes. */
    protected ShapeException shapeError(String expected, Shape given) {
        return new ShapeException(type() + " layer '" + name() + "' expects " + expected + " but got input shape " + given + " (per example, without the batch axis)");
    }

    @Override public String toString() { return type() + "(" + name() + ")"; }
}
