package dev.kiln.examples;

import dev.kiln.cpu.CpuBackend;
import dev.kiln.data.Dataset;
import dev.kiln.loss.Loss;
import dev.kiln.metric.Metric;
import dev.kiln.nn.*;
import dev.kiln.optim.Adam;
import dev.kiln.optim.Sgd;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.ShapeException;
import dev.kiln.train.Fit;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad input fails before any step with a message that says what is wrong and where (shapes, the
 * first layer, the row and the value), on the CPU backend; and the model's own description
 * (Keras-style layer names, parameter counts, receptive fields) is what Keras would print.
 */
class BadInputAndModelIntrospectionTest {
    private static Model smallConvnet() {
        Model m = Sequential.of(Input.shape(8, 8, 1), Conv2D.of(4, 3).relu().same(), MaxPool2D.of(2), Flatten.of(), Dense.of(3).softmax()).seed(1);
        m.backend(new CpuBackend());
        m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy(), Metric.accuracy());
        return m;
    }

    private static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
    }

    private static final Fit ONE_EPOCH = Fit.epochs(1).batchSize(2).verbose(false);

    @Test
    void fitWithTheWrongExampleShapeNamesBothShapesAndTheFirstLayer() {
        Model m = smallConvnet();
        Dataset wrong = Dataset.of(gaussian(4 * 8 * 8 * 3, 1), Shape.of(4, 8, 8, 3), new float[] {0, 1, 2, 0}, Shape.of(4));
        ShapeException e = assertThrows(ShapeException.class, () -> m.fit(wrong, ONE_EPOCH));
        assertMentions(e, Shape.of(8, 8, 3).toString(), Shape.of(8, 8, 1).toString(), "conv2d");
    }

    @Test
    void predictWithTheWrongExampleShapeNamesBothShapesAndTheFirstLayer() {
        Model m = smallConvnet();
        Dataset wrong = Dataset.of(gaussian(4 * 8 * 8 * 3, 2), Shape.of(4, 8, 8, 3), new float[] {0, 1, 2, 0}, Shape.of(4));
        ShapeException e = assertThrows(ShapeException.class, () -> m.predict(wrong));
        assertMentions(e, Shape.of(8, 8, 3).toString(), Shape.of(8, 8, 1).toString(), "conv2d");
        // a flat array that is not a whole number of examples: its length, the example shape, the layer
        ShapeException flat = assertThrows(ShapeException.class, () -> m.predict(new float[100], 2));
        assertMentions(flat, "100", Shape.of(8, 8, 1).toString(), "conv2d");
    }

    @Test
    void sparseLabelsOutOfRangeOrNotWholeNameTheRowAndValue() {
        Model m = smallConvnet();
        float[] x = gaussian(4 * 64, 3);
        Dataset outOfRange = Dataset.of(x, Shape.of(4, 8, 8, 1), new float[] {0, 1, 3, 0}, Shape.of(4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.fit(outOfRange, ONE_EPOCH));
        assertMentions(e, "row 2", "3.0", "[0, 3)");
        Dataset fractional = Dataset.of(x, Shape.of(4, 8, 8, 1), new float[] {0, 1, 2, 1.5f}, Shape.of(4));
        e = assertThrows(IllegalArgumentException.class, () -> m.fit(fractional, ONE_EPOCH));
        assertMentions(e, "row 3", "1.5");
    }

    @Test
    void binaryTargetsOutsideZeroOneNameTheRowAndValue() {
        Model m = Sequential.of(Input.shape(3), Dense.of(1).sigmoid()).seed(2);
        m.backend(new CpuBackend());
        m.compile(Sgd.lr(0.1), Loss.binaryCrossentropy());
        Dataset d = Dataset.of(gaussian(12, 4), Shape.of(4, 3), new float[] {0, 1, 1, 2}, Shape.of(4, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.fit(d, ONE_EPOCH));
        assertMentions(e, "row 3", "2.0", "[0, 1]");
    }

    @Test
    void nanOrInfinityInADatasetNamesRowAndColumn() {
        float[] x = gaussian(12, 5);
        x[1 * 4 + 2] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Dataset.of(x, Shape.of(3, 4), new float[3], Shape.of(3)));
        assertMentions(e, "NaN", "row 1", "column 2");
        float[] y = {0, 0, Float.POSITIVE_INFINITY};
        e = assertThrows(IllegalArgumentException.class, () -> Dataset.of(gaussian(12, 6), Shape.of(3, 4), y, Shape.of(3)));
        assertMentions(e, "Infinity", "row 2");
    }

    @Test
    void receptiveFieldGrowsByTwoPerThreeByThreeConvAndDoublesItsStepAfterPooling() {
        Model m = Sequential.of(Input.shape(32, 32, 3),
                Conv2D.of(8, 3).same(), Conv2D.of(8, 3).same(), Conv2D.of(8, 3).same(), MaxPool2D.of(2), Conv2D.of(8, 3).same());
        List<ReceptiveField> rf = m.receptiveField();
        List<Integer> sizes = new ArrayList<>(), jumps = new ArrayList<>();
        for (ReceptiveField f : rf) { sizes.add(f.sizeH()); jumps.add(f.jumpH()); assertEquals(f.sizeH(), f.sizeW()); }
        // 3, 5, 7; a 2×2 pool adds (2-1)·1 -> 8 and makes the step 2; the next 3×3 conv adds (3-1)·2 -> 12
        assertEquals(List.of(3, 5, 7, 8, 12), sizes);
        assertEquals(List.of(1, 1, 1, 2, 2), jumps);
        assertEquals("conv2d_2", rf.get(2).layer());
    }

    @Test
    void m3ConvnetHasKerasLayerNamesAndParameterCounts() {
        Model m = Sequential.of(Input.shape(28, 28, 1),
                Conv2D.of(32, 3).relu().same(), MaxPool2D.of(2),
                Conv2D.of(64, 3).relu().same(), Conv2D.of(64, 3).relu().same(), MaxPool2D.of(2),
                Conv2D.of(128, 3).relu().same(), Conv2D.of(128, 3).relu().same(), Conv2D.of(128, 3).relu().same(), MaxPool2D.of(2),
                Flatten.of(), Dense.of(64).relu(), Dropout.of(0.2), Dense.of(10));
        m.build();
        List<String> names = new ArrayList<>();
        for (Layer l : m.layers()) names.add(l.name());
        assertEquals(List.of("conv2d", "max_pooling2d", "conv2d_1", "conv2d_2", "max_pooling2d_1", "conv2d_3", "conv2d_4", "conv2d_5",
                "max_pooling2d_2", "flatten", "dense", "dropout", "dense_1"), names);
        // 3·3·1·32+32 = 320; 3·3·32·64+64 = 18,496; 3·3·64·64+64 = 36,928; 3·3·64·128+128 = 73,856;
        // 3·3·128·128+128 = 147,584 (twice); pools 28 -> 14 -> 7 -> 3, flatten 3·3·128 = 1,152;
        // 1,152·64+64 = 73,792; 64·10+10 = 650. Total 499,210.
        long expected = 320 + 18_496 + 36_928 + 73_856 + 2 * 147_584 + 73_792 + 650;
        assertEquals(499_210, expected);
        assertArrayEquals(new long[] {expected, expected}, m.parameterCounts());
        String summary = m.summary();
        assertMentions(new Exception(summary), "Total params: 499,210", "conv2d_5 (Conv2D)", "(None, 3, 3, 128)", "147,584", "dense_1 (Dense)");
    }
}
