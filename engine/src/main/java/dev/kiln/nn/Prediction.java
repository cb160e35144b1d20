package dev.kiln.nn;

import dev.kiln.backend.Executable;
import dev.kiln.tensor.ShapeException;

import java.util.ArrayList;
import java.util.List;

/** Batched inference: arrays of examples in, one array per output out, one compiled program per batch size. */
final class Prediction {
    private Prediction() {}

    /** Predictions for several inputs (each [rows, ...inputShape(i)]), one array per output. */
    static List<float[]> run(Topology t, Programs programs, List<float[]> xs, int batchSize) {
        List<Symbol> inputs = t.inputs(), outputs = t.outputs();
        if (xs.size() != inputs.size()) {
            throw new IllegalArgumentException("model '" + t.name() + "' takes " + inputs.size() + " inputs " + t.inputNames() + ", got " + xs.size() + " arrays; give one per input, in input order");
        }
        if (batchSize < 1) throw new IllegalArgumentException("predict: batch size must be >= 1, got " + batchSize);
        int perIn0 = inputs.get(0).shape().size();
        if (xs.get(0).length % perIn0 != 0) {
            throw new ShapeException("predict: input 0 has " + xs.get(0).length + " values, not a whole number of examples of shape " + inputs.get(0).shape()
                    + " (" + perIn0 + " values each; first layer: " + t.firstLayer() + ")");
        }
        int rows = xs.get(0).length / perIn0;
        for (int i = 0; i < xs.size(); i++) {
            int per = inputs.get(i).shape().size();
            if (xs.get(i).length != rows * per) {
                throw new ShapeException("predict: input " + i + " ('" + inputs.get(i).inputName() + "') expects " + rows + " examples of shape "
                        + inputs.get(i).shape() + " (" + rows * per + " values), got " + xs.get(i).length + " values");
            }
        }
        List<float[]> result = new ArrayList<>();
        for (Symbol o : outputs) result.add(new float[rows * o.shape().size()]);
        for (int start = 0; start < rows; start += batchSize) {
            int n = Math.min(batchSize, rows - start);
            Executable e = programs.prediction(n);
            for (int i = 0; i < xs.size(); i++) {
                int per = inputs.get(i).shape().size();
                e.setInput(e.program().inputSlot(t.programInputName(i)), xs.get(i), start * per, n * per);
            }
            e.run();
            for (int o = 0; o < outputs.size(); o++) e.readOutput(o, result.get(o), start * outputs.get(o).shape().size());
        }
        return result;
    }
}
