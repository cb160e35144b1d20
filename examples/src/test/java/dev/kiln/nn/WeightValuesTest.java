package dev.kiln.nn;

import dev.kiln.cpu.CpuBackend;
import dev.kiln.data.Dataset;
import dev.kiln.eager.Tensor;
import dev.kiln.loss.Loss;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;
import dev.kiln.train.Fit;
import dev.kiln.train.History;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Keras's get_weights / set_weights on layers and models, and what they do to compiled programs. */
class WeightValuesTest {
    private static Model denseThenBatchNorm() {
        Model m = Sequential.of(Input.shape(3), Dense.of(2).named("dense"), BatchNormalization.of().named("bn")).seed(4);
        m.backend(new CpuBackend());
        return m;
    }

    @Test
    void getWeightsListsEachLayersWeightsInBuildOrderAsCopies() {
        Model m = denseThenBatchNorm();
        List<Tensor> w = m.getWeights();
        List<Shape> shapes = new ArrayList<>();
        for (Tensor t : w) shapes.add(t.shape());
        assertEquals(List.of(Shape.of(3, 2), Shape.of(2), Shape.of(2), Shape.of(2), Shape.of(2), Shape.of(2)), shapes);
        Dense d = (Dense) m.layer("dense");
        assertArrayEquals(d.kernel().value(), w.get(0).toArray());
        assertArrayEquals(new float[] {1, 1}, w.get(2).toArray(), "gamma starts at ones");
        assertArrayEquals(new float[] {1, 1}, w.get(5).toArray(), "moving variance starts at ones");
        assertEquals(4, m.layer("bn").getWeights().size());
        // copies: changing the model afterwards does not change what was read
        float before = w.get(0).toArray()[0];
        d.kernel().value()[0] += 1;
        assertEquals(before, w.get(0).toArray()[0]);
    }

    /**
     * x·W + b through BatchNormalization in inference (moving mean 0, variance 1 - ε so the scale is exactly 1),
     * computed by hand. The programs of predict, evaluate and fit are compiled and cached before setWeights, so this
     * checks that the cached programs see the new values.
     */
    @Test
    void setWeightsReachesProgramsCompiledBefore() {
        Model m = denseThenBatchNorm();
        m.compile(Sgd.lr(0.1), Loss.mse());
        float[] x = {1, 2, 3, -1, 0, 2};
        float[] y = {1, -1, 1, -1};
        Dataset d = Dataset.of(x, Shape.of(2, 3), y, Shape.of(2, 2));
        Fit oneStep = Fit.epochs(1).batchSize(2).shuffle(false).verbose(false);
        m.predict(x, 2);
        m.evaluate(d, 2);
        m.fit(d, oneStep);

        float eps = 1e-3f;
        float[] kernel = {1, 0, 0, 1, 1, -1}; // [3, 2]
        float[] bias = {0.5f, -0.5f};
        m.setWeights(List.of(Tensor.of(Shape.of(3, 2), kernel), Tensor.of(Shape.of(2), bias),
                Tensor.of(Shape.of(2), 1, 1), Tensor.of(Shape.of(2), 0, 0), Tensor.of(Shape.of(2), 0, 0), Tensor.of(Shape.of(2), 1 - eps, 1 - eps)));
        // row 0: [1 + 3, 2 - 3] + b = [4.5, -1.5]; row 1: [-1 + 2, 0 - 2] + b = [1.5, -2.5]
        float[] expected = {4.5f, -1.5f, 1.5f, -2.5f};
        assertArrayEquals(expected, m.predict(x, 2), 1e-5f);
        double mse = 0;
        for (int i = 0; i < 4; i++) mse += (expected[i] - y[i]) * (double) (expected[i] - y[i]);
        mse /= 4;
        assertEquals(mse, m.evaluate(d, 2).get("loss"), 1e-5 * mse);

        // the training program normalises with the batch's statistics: per channel the batch is (4.5, 1.5) and (-1.5, -2.5),
        // so the normalised values are ±(1.5 / sqrt(1.5² + ε)) and ±(0.5 / sqrt(0.5² + ε)) and the first step's loss follows
        double a = 1.5 / Math.sqrt(1.5 * 1.5 + eps), b = 0.5 / Math.sqrt(0.5 * 0.5 + eps);
        double[] z = {a, b, -a, -b};
        double trainMse = 0;
        for (int i = 0; i < 4; i++) trainMse += (z[i] - y[i]) * (z[i] - y[i]);
        trainMse /= 4;
        History h = m.fit(d, oneStep);
        assertEquals(trainMse, h.last("loss"), 1e-5 * trainMse);
    }

    @Test
    void setWeightsChecksCountAndShapesBeforeChangingAnything() {
        Model m = denseThenBatchNorm();
        List<Tensor> before = m.getWeights();
        List<Tensor> wrong = new ArrayList<>(before);
        wrong.set(0, Tensor.of(Shape.of(2, 3), new float[6]));
        wrong.set(1, Tensor.of(Shape.of(2), 9, 9));
        var shape = assertThrows(ShapeException.class, () -> m.setWeights(wrong));
        assertTrue(shape.getMessage().contains("Dense layer 'dense'") && shape.getMessage().contains("[3, 2]") && shape.getMessage().contains("[2, 3]"), shape.getMessage());
        var count = assertThrows(IllegalArgumentException.class, () -> m.setWeights(before.subList(0, 5)));
        assertTrue(count.getMessage().contains("6 weights") && count.getMessage().contains("got 5"), count.getMessage());
        var layerCount = assertThrows(IllegalArgumentException.class, () -> m.layer("bn").setWeights(before.subList(0, 2)));
        assertTrue(layerCount.getMessage().contains("BatchNormalization layer 'bn' has 4 weights"), layerCount.getMessage());
        // nothing was assigned: the bias is not 9
        List<Tensor> after = m.getWeights();
        for (int i = 0; i < before.size(); i++) assertArrayEquals(before.get(i).toArray(), after.get(i).toArray(), "weight " + i);

        m.layer("dense").setWeights(List.of(Tensor.of(Shape.of(3, 2), 1, 2, 3, 4, 5, 6), Tensor.of(Shape.of(2), 7, 8)));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, ((Dense) m.layer("dense")).kernel().value());
        assertArrayEquals(new float[] {7, 8}, m.getWeights().get(1).toArray());
    }

    /**
     * Keras 3's biased moving variance: after one training step on a batch of m = 4 values per channel, the moving
     * variance is momentum · 1 + (1 - momentum) · Σ(x - mean)² / m (not / (m - 1), PyTorch's running_var).
     */
    @Test
    void batchNormalizationMovesTowardsTheBiasedBatchVariance() {
        Model m = Sequential.of(Input.shape(1), BatchNormalization.of().momentum(0.5).named("bn")).seed(1);
        m.backend(new CpuBackend());
        m.compile(Sgd.lr(0.1), Loss.mse());
        m.fit(Dataset.of(new float[] {1, 2, 3, 6}, Shape.of(4, 1), new float[4], Shape.of(4, 1)), Fit.epochs(1).batchSize(4).verbose(false));
        // mean 3, Σ(x - mean)² = 4 + 1 + 0 + 9 = 14: biased 3.5, unbiased 4.667
        float[] mv = m.layer("bn").getWeights().get(3).toArray();
        assertEquals(0.5 * 1 + 0.5 * 3.5, mv[0], 1e-6);
    }
}
