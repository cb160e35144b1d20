package dev.kiln.nn;

import dev.kiln.cpu.CpuBackend;
import dev.kiln.data.Dataset;
import dev.kiln.eager.Tensor;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Functional models with several inputs and several outputs train, evaluate and predict from named datasets. */
class FunctionalModelTrainingTest {
    private static final int N = 40;

    private static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** y = 0.5·a₀ - a₁ + 2·a₂ + 1.5·b₀ - 0.5·b₁ + 0.25, one row per example. */
    private static float[] linearTarget(float[] a, float[] b) {
        float[] y = new float[N];
        for (int i = 0; i < N; i++) {
            y[i] = 0.5f * a[3 * i] - a[3 * i + 1] + 2 * a[3 * i + 2] + 1.5f * b[2 * i] - 0.5f * b[2 * i + 1] + 0.25f;
        }
        return y;
    }

    private static Model twoInputs(long seed) {
        Symbol a = Input.named("a", 3), b = Input.named("b", 2);
        Symbol out = Dense.of(1).named("out").apply(Concatenate.of().apply(a, b));
        Model m = Model.of(List.of(a, b), List.of(out)).seed(seed);
        m.backend(new CpuBackend());
        return m;
    }

    private static final Fit QUIET = Fit.epochs(1).batchSize(8).seed(3).verbose(false);

    /**
     * The two-input model [a, b] → concat → Dense(1) and the one-input model on the concatenated rows [a | b] → Dense(1),
     * started from the same weights and fed the same shuffled batches, must take identical steps: the same losses every
     * epoch and the same final weights. Any misaligned row across the two inputs, or a feed into the wrong slot, would
     * change the numbers. The sum over the concatenation is computed in the same order in both, so they agree to
     * float rounding (1e-6 relative leaves room for a different fusion of the concatenation).
     */
    @Test
    void twoNamedInputsTrainExactlyAsTheirConcatenationDoes() {
        float[] xa = gaussian(N * 3, 1), xb = gaussian(N * 2, 2), y = linearTarget(xa, xb);
        float[] cat = new float[N * 5];
        for (int i = 0; i < N; i++) {
            System.arraycopy(xa, 3 * i, cat, 5 * i, 3);
            System.arraycopy(xb, 2 * i, cat, 5 * i + 3, 2);
        }
        Model two = twoInputs(7);
        Model one = Sequential.of(Input.shape(5), Dense.of(1)).seed(8);
        one.backend(new CpuBackend());
        one.setWeights(two.getWeights());
        two.compile(Sgd.lr(0.05), Loss.mse());
        one.compile(Sgd.lr(0.05), Loss.mse());

        Dataset named = Dataset.of(Map.of("b", Tensor.of(Shape.of(N, 2), xb), "a", Tensor.of(Shape.of(N, 3), xa)), Tensor.of(Shape.of(N), y));
        Dataset flat = Dataset.of(cat, Shape.of(N, 5), y, Shape.of(N));
        Fit fit = Fit.epochs(30).batchSize(8).seed(3).verbose(false);
        History h2 = two.fit(named, fit), h1 = one.fit(flat, fit);

        List<Double> l2 = h2.get("loss"), l1 = h1.get("loss");
        for (int e = 0; e < l1.size(); e++) assertEquals(l1.get(e), l2.get(e), 1e-6 * l1.get(e) + 1e-9, "epoch " + e + " loss");
        assertTrue(l2.get(29) < 0.01 * l2.get(0), "the two-input model learns the linear target: loss " + l2.get(0) + " -> " + l2.get(29));
        float[] w2 = two.getWeights().get(0).toArray(), w1 = one.getWeights().get(0).toArray();
        assertArrayEquals(w1, w2, 1e-5f, "kernels after 30 epochs");

        // evaluate and predict take the same named dataset; predictions are those of predict(List) in input order
        double evalLoss = two.evaluate(named, 16).get("loss");
        float[] pred = two.predict(named);
        float[] byList = two.predict(List.of(xa, xb), 16).get(0);
        assertArrayEquals(byList, pred, 0f);
        double mse = 0;
        for (int i = 0; i < N; i++) mse += (pred[i] - y[i]) * (double) (pred[i] - y[i]);
        assertEquals(mse / N, evalLoss, 1e-5 * mse / N + 1e-9, "evaluate's loss is the mse of predict's outputs");
        assertEquals(evalLoss, one.evaluate(flat, 16).get("loss"), 1e-5 * evalLoss + 1e-9);
    }

    @Test
    void validationSplitAndPrefetchKeepEveryInputAligned() {
        // the target is a function of both inputs row by row, so a dataset whose rows slipped apart could not be fitted
        float[] xa = gaussian(N * 3, 4), xb = gaussian(N * 2, 5), y = linearTarget(xa, xb);
        Dataset named = Dataset.of(Map.of("a", Tensor.of(Shape.of(N, 3), xa), "b", Tensor.of(Shape.of(N, 2), xb)), Tensor.of(Shape.of(N), y));
        Model m = twoInputs(9);
        m.compile(Sgd.lr(0.05), Loss.mse(), Metric.mae());
        History h = m.fit(named, Fit.epochs(60).batchSize(8).validationSplit(0.25).prefetch(true).verbose(false));
        assertEquals(List.of("loss", "mae", "val_loss", "val_mae"), h.keys());
        assertTrue(h.last("val_loss") < 0.01 * h.get("val_loss").get(0), "validation loss " + h.get("val_loss").get(0) + " -> " + h.last("val_loss"));
    }

    @Test
    void namesAndShapesThatDoNotFitTheModelAreNamedInTheError() {
        Model m = twoInputs(1);
        m.compile(Sgd.lr(0.1), Loss.mse());
        Tensor a = Tensor.of(Shape.of(4, 3), gaussian(12, 1)), b = Tensor.of(Shape.of(4, 2), gaussian(8, 2)), y = Tensor.of(Shape.of(4), new float[4]);

        var missing = assertThrows(IllegalArgumentException.class, () -> m.fit(Dataset.of(Map.of("a", a, "c", b), y), QUIET));
        assertTrue(missing.getMessage().contains("no input named 'b'") && missing.getMessage().contains("[a, c]") && missing.getMessage().contains("[a, b]"), missing.getMessage());

        Tensor wide = Tensor.of(Shape.of(4, 4), gaussian(16, 3));
        var shape = assertThrows(ShapeException.class, () -> m.fit(Dataset.of(Map.of("a", a, "b", wide), y), QUIET));
        assertTrue(shape.getMessage().contains("input 'b'") && shape.getMessage().contains("[4]") && shape.getMessage().contains("[2]"), shape.getMessage());

        var unnamed = assertThrows(IllegalArgumentException.class, () -> m.fit(Dataset.of(new float[20], Shape.of(4, 5), new float[4], Shape.of(4)), QUIET));
        assertTrue(unnamed.getMessage().contains("2 inputs [a, b]") && unnamed.getMessage().contains("Dataset.of(Map.of("), unnamed.getMessage());

        var extra = assertThrows(IllegalArgumentException.class, () -> m.predict(Dataset.of(Map.of("a", a, "b", b, "z", a), y)));
        assertTrue(extra.getMessage().contains("[z]"), extra.getMessage());

        Tensor fewer = Tensor.of(Shape.of(3, 2), gaussian(6, 4));
        var rows = assertThrows(IllegalArgumentException.class, () -> Dataset.of(Map.of("a", a, "b", fewer), y));
        assertTrue(rows.getMessage().contains("'b' has 3 examples") && rows.getMessage().contains("'a' has 4"), rows.getMessage());
    }

    private static Model twoOutputs(long seed) {
        Symbol x = Input.named("x_in", 4);
        Symbol h = Dense.of(8).tanh().named("trunk").apply(x);
        Symbol reg = Dense.of(1).named("reg").apply(h);
        Symbol cls = Dense.of(3).softmax().named("cls").apply(h);
        Model m = Model.of(List.of(x), List.of(reg, cls)).seed(seed);
        m.backend(new CpuBackend());
        return m;
    }

    /** Targets: reg = x₀ + x₁ - x₂, cls = the arg-max of x₀, x₁, x₃. */
    private static Dataset twoTargets(int n, long seed) {
        float[] x = gaussian(n * 4, seed), reg = new float[n], cls = new float[n];
        for (int i = 0; i < n; i++) {
            reg[i] = x[4 * i] + x[4 * i + 1] - x[4 * i + 2];
            float c0 = x[4 * i], c1 = x[4 * i + 1], c2 = x[4 * i + 3];
            cls[i] = c0 >= c1 && c0 >= c2 ? 0 : c1 >= c2 ? 1 : 2;
        }
        return Dataset.of(Map.of("x_in", Tensor.of(Shape.of(n, 4), x)),
                Map.of("reg", Tensor.of(Shape.of(n), reg), "cls", Tensor.of(Shape.of(n), cls)));
    }

    /**
     * Two outputs, one loss each by output name: the training loss is their sum (as Keras's), each is logged as
     * "name_loss", metrics are computed per output, and evaluate's per-output losses are those of predictOutputs.
     */
    @Test
    void twoOutputsTrainOnTheSumOfTheirLosses() throws java.io.IOException {
        Model m = twoOutputs(11);
        var oneLoss = assertThrows(IllegalArgumentException.class, () -> m.compile(Sgd.lr(0.1), Loss.mse()));
        assertTrue(oneLoss.getMessage().contains("[reg, cls]"), oneLoss.getMessage());
        var wrongName = assertThrows(IllegalArgumentException.class, () -> m.compile(Sgd.lr(0.1), Map.of("reg", Loss.mse(), "class", Loss.mse())));
        assertTrue(wrongName.getMessage().contains("[cls]") && wrongName.getMessage().contains("[class]"), wrongName.getMessage());

        m.compile(Sgd.lr(0.1), Map.of("reg", Loss.mse(), "cls", Loss.sparseCategoricalCrossentropy()), Metric.accuracy());
        Dataset train = twoTargets(96, 12);
        History h = m.fit(train, Fit.epochs(40).batchSize(16).seed(1).verbose(false));
        assertEquals(List.of("loss", "reg_loss", "cls_loss", "reg_accuracy", "cls_accuracy"), h.keys());
        for (int e = 0; e < 40; e++) {
            double sum = h.get("reg_loss").get(e) + h.get("cls_loss").get(e);
            assertEquals(sum, h.get("loss").get(e), 1e-5 * sum, "epoch " + e + ": loss is the sum of the outputs' losses");
        }
        assertTrue(h.last("reg_loss") < 0.2 * h.get("reg_loss").get(0), "reg loss " + h.get("reg_loss"));
        assertTrue(h.last("cls_loss") < 0.6 * h.get("cls_loss").get(0), "cls loss " + h.get("cls_loss"));
        assertTrue(h.last("cls_accuracy") > 0.8, "cls accuracy " + h.last("cls_accuracy"));

        Dataset test = twoTargets(30, 13);
        Map<String, Double> ev = m.evaluate(test, 8);
        Map<String, float[]> pred = m.predictOutputs(test);
        assertEquals(List.of("reg", "cls"), new ArrayList<>(pred.keySet()));
        float[] reg = pred.get("reg"), cls = pred.get("cls"), yReg = test.labels(test.targetIndex("reg")), yCls = test.labels(test.targetIndex("cls"));
        double mse = 0, ce = 0;
        int right = 0;
        for (int i = 0; i < 30; i++) {
            mse += (reg[i] - yReg[i]) * (double) (reg[i] - yReg[i]);
            ce -= Math.log(cls[3 * i + (int) yCls[i]]);
            int arg = cls[3 * i] >= cls[3 * i + 1] && cls[3 * i] >= cls[3 * i + 2] ? 0 : cls[3 * i + 1] >= cls[3 * i + 2] ? 1 : 2;
            if (arg == yCls[i]) right++;
        }
        assertEquals(mse / 30, ev.get("reg_loss"), 1e-5 * mse / 30);
        assertEquals(ce / 30, ev.get("cls_loss"), 1e-4 * ce / 30);
        assertEquals(ev.get("reg_loss") + ev.get("cls_loss"), ev.get("loss"), 1e-5 * ev.get("loss"));
        assertEquals(right / 30.0, ev.get("cls_accuracy"), 1e-12);
        // a compiled two-output model saves and loads with its outputs' names; the loaded model predicts the same
        java.nio.file.Path file = java.nio.file.Files.createTempDirectory("kiln-two-outputs").resolve("m.kiln");
        m.save(file);
        Model loaded = Model.load(file);
        loaded.backend(new CpuBackend());
        assertEquals(List.of("reg", "cls"), loaded.outputNames());
        Map<String, float[]> again = loaded.predictOutputs(test);
        assertArrayEquals(reg, again.get("reg"), 0f);
        assertArrayEquals(cls, again.get("cls"), 0f);

        var single = assertThrows(IllegalStateException.class, () -> m.predict(test));
        assertTrue(single.getMessage().contains("predictOutputs"), single.getMessage());

        var unnamed = assertThrows(IllegalArgumentException.class, () -> m.fit(Dataset.of(new float[8], Shape.of(2, 4), new float[2], Shape.of(2)), QUIET));
        assertTrue(unnamed.getMessage().contains("2 outputs [reg, cls]"), unnamed.getMessage());
    }
}
