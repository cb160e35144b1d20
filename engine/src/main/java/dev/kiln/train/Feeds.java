package dev.kiln.train;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.data.Dataset;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;

import java.util.ArrayList;
import java.util.List;

/**
 * How a {@link Dataset}'s arrays feed a model, matched once before a loop starts: which dataset input
 * feeds each model input and which dataset target each model output, by name (Keras's
 * {@code fit({"a": xa, "b": xb}, {"out": y})}). A dataset of one unnamed input (or target) feeds a
 * model of one input (or output). Every mismatch is an error naming the array, both shapes and the fix.
 */
public final class Feeds {
    private Feeds() {}

    /** For each model input i, the index of the dataset input that feeds it; checks names and example shapes. */
    public static int[] inputColumns(Trainable model, Dataset data, String what) {
        int n = model.inputNames().size();
        int[] col = new int[n];
        if (data.inputNames().isEmpty()) {
            if (n != 1) {
                throw new IllegalArgumentException("model '" + model.name() + "' has " + n + " inputs " + model.inputNames() + " but the " + what
                        + " has one unnamed feature array; build it with Dataset.of(Map.of(\"" + model.inputName(0) + "\", ..., ...), targets), one tensor per input name");
            }
            checkShape(model, 0, data.exampleShape(0), "the " + what + " has examples of shape ");
            return col;
        }
        List<String> unused = new ArrayList<>(data.inputNames());
        for (int i = 0; i < n; i++) {
            String name = model.inputName(i);
            col[i] = data.inputIndex(name);
            if (col[i] < 0) {
                throw new IllegalArgumentException("the " + what + " has no input named '" + name + "' (it has " + data.inputNames() + "); model '" + model.name()
                        + "' takes inputs " + model.inputNames() + ": name the dataset's arrays after the model's Input names");
            }
            unused.remove(name);
            checkShape(model, i, data.exampleShape(col[i]), "the " + what + "'s input '" + name + "' has examples of shape ");
        }
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException("the " + what + " has inputs " + unused + " that model '" + model.name() + "' does not take (its inputs: "
                    + model.inputNames() + "); drop them or rename them after the model's inputs");
        }
        return col;
    }

    private static void checkShape(Trainable model, int i, Shape given, String prefix) {
        Shape expected = model.inputShape(i);
        // a flat [N] or [N, k] array may feed an input of the same size whose rank is at most 1
        if (!expected.equals(given) && !(expected.size() == given.size() && given.rank() <= 1 && expected.rank() <= 1)) {
            // with one input the first layer is the one that takes it, and names the place for the user
            String where = model.inputNames().size() == 1 ? " (first layer: " + model.firstLayer() + ")" : "";
            throw new ShapeException(prefix + given + " but model '" + model.name() + "' expects " + expected + " at its input '" + model.inputName(i)
                    + "'" + where + "; reshape the data or change the Input's shape");
        }
    }

    /**
     * For each model output k, the index of the dataset target that feeds its loss; checks names, label
     * sizes and label values (class indices in range, binary targets in [0, 1]).
     */
    public static int[] targetColumns(Trainable model, Dataset data, String what) {
        int n = model.outputNames().size();
        int[] col = new int[n];
        if (data.targetNames().isEmpty()) {
            if (n != 1) {
                throw new IllegalArgumentException("model '" + model.name() + "' has " + n + " outputs " + model.outputNames() + " but the " + what
                        + " has one unnamed label array; build it with Dataset.of(inputs, Map.of(\"" + model.outputName(0) + "\", ..., ...)), one target per output name");
            }
        } else {
            List<String> unused = new ArrayList<>(data.targetNames());
            for (int k = 0; k < n; k++) {
                String name = model.outputName(k);
                col[k] = data.targetIndex(name);
                if (col[k] < 0) {
                    throw new IllegalArgumentException("the " + what + " has no target named '" + name + "' (it has " + data.targetNames() + "); model '" + model.name()
                            + "' has outputs " + model.outputNames() + ": name each target after its output layer");
                }
                unused.remove(name);
            }
            if (!unused.isEmpty()) {
                throw new IllegalArgumentException("the " + what + " has targets " + unused + " for which model '" + model.name() + "' has no output (its outputs: "
                        + model.outputNames() + ")");
            }
        }
        for (int k = 0; k < n; k++) {
            Shape target = model.targetShape(k);
            int per = data.labelsPerExample(col[k]);
            String which = n == 1 ? "" : " for output '" + model.outputName(k) + "'";
            if (per != target.size()) {
                throw new ShapeException("the " + what + " has " + per + " label value(s) per example" + which + " but the loss " + model.losses().get(k).name()
                        + " on output " + model.outputShape(k) + " expects " + target.size() + " (label shape " + target + ")");
            }
            model.losses().get(k).validateTargets(data.labels(col[k]), data.size(), model.outputShape(k));
        }
        return col;
    }

    /** The input slots of one training or evaluation executable, found by name once so that each step feeds by index without allocating. */
    static final class Slots {
        final Executable executable;
        final int[] x, y;
        final int lr, step;

        Slots(Trainable model, Executable e, boolean training) {
            Program p = e.program();
            this.executable = e;
            this.x = new int[model.inputNames().size()];
            this.y = new int[model.outputNames().size()];
            for (int i = 0; i < x.length; i++) x[i] = p.inputSlot(model.programInputName(i));
            for (int k = 0; k < y.length; k++) y[k] = p.inputSlot(model.programTargetName(k));
            this.lr = training ? p.inputSlot("lr") : -1;
            this.step = training ? p.inputSlot("step") : -1;
        }

        /** Rows of the batch this executable was compiled for. */
        int batch() { return executable.program().inputs().get(x[0]).shape().dim(0); }
    }
}
