package dev.kiln.train;

import dev.kiln.backend.Executable;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.optim.Optimizer;
import dev.kiln.tensor.Shape;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code fit}, {@code evaluate} and callbacks see of a model (the nn package's {@code Model} is the one
 * implementation): its named inputs and outputs, its compiled programs, optimizer, losses and metrics,
 * the step counter, and for callbacks its weights, {@code save} and {@code predict}.
 *
 * <p>Why an interface: the model's {@code fit} runs this package's loop, and this package's callbacks see
 * the model; an interface here lets {@code dev.kiln.nn} depend on {@code dev.kiln.train} and not the
 * other way round, so the packages form no import circle. A callback that needs more of the model casts
 * {@code state.model()} to {@code Model}.
 */
public interface Trainable {
    String name();

    /** Input names, in input order (a dataset's inputs feed them by name). */
    List<String> inputNames();
    default String inputName(int i) { return inputNames().get(i); }
    /** The per-example shape of input {@code i}. */
    Shape inputShape(int i);
    /** The name programs give input {@code i}'s feed. */
    String programInputName(int i);

    /** Output names, in output order (a dataset's targets feed their losses by name). */
    List<String> outputNames();
    default String outputName(int k) { return outputNames().get(k); }
    /** The per-example shape of output {@code k}. */
    Shape outputShape(int k);
    /** The per-example shape output {@code k}'s loss expects for its targets. */
    Shape targetShape(int k);
    /** The name training and evaluation programs give output {@code k}'s targets. */
    String programTargetName(int k);
    /** The loss of each output, in output order. */
    List<Loss> losses();
    List<Metric> metrics();
    Optimizer optimizer();

    /**
     * True when the training step scales its loss dynamically (FP16): a step whose gradients are not finite updates
     * nothing on the device, so a non-finite loss there is a skipped step, not a diverged run, and does not stop fit.
     */
    default boolean scalesLoss() { return false; }

    /** The layer table (Keras's {@code model.summary()}), shown by the {@link Dashboard}. */
    default String summary() { return name(); }

    /** The first layer as "name (Type)", for error messages about input shapes. */
    String firstLayer();

    /** The compiled training step for {@code batch} examples (inputs by name, the targets, "lr", "step"). */
    Executable trainingProgram(int batch);
    /** The compiled evaluation step for {@code batch} examples. */
    Executable evaluationProgram(int batch);

    /** Optimizer steps taken so far. */
    long iterations();
    void setIterations(long t);

    /** Every weight, in layer order. */
    List<Variable> weights();
    /** Writes the model file (architecture, weights, optimizer state). */
    void save(Path path) throws IOException;
    /** Predictions of a single-input, single-output model, in batches. */
    float[] predict(float[] x, int batchSize);
}
