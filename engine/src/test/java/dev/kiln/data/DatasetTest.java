package dev.kiln.data;

import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class DatasetTest {
    static Dataset counting(int n, int features) {
        float[] x = new float[n * features];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = i;
            for (int j = 0; j < features; j++) x[i * features + j] = i * 100 + j;
        }
        return Dataset.of(x, Shape.of(n, features), y, Shape.of(n));
    }

    @Test void ofCopiesTheArraysSoLaterWritesDoNotLeakIn() {
        float[] x = {1, 2, 3, 4};
        Dataset d = Dataset.of(x, Shape.of(2, 2), new float[] {0, 1}, Shape.of(2));
        x[0] = 99;
        assertEquals(1f, d.feature(0, 0));
        assertEquals(2, d.size());
        assertEquals(Shape.of(2), d.exampleShape());
    }

    @Test void nanAndInfinityAreRejectedNamingRowAndColumn() {
        float[] x = {1, 2, 3, 4, 5, Float.NaN};
        var e = assertThrows(IllegalArgumentException.class, () -> Dataset.of(x, Shape.of(2, 3), new float[] {0, 1}, Shape.of(2)));
        assertTrue(e.getMessage().contains("row 1, column 2"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> Dataset.of(new float[] {1, 2}, Shape.of(2, 1), new float[] {0, Float.POSITIVE_INFINITY}, Shape.of(2)));
        assertTrue(e2.getMessage().contains("label Infinity at row 1"), e2.getMessage());
    }

    @Test void mismatchedExampleCountsNameBothShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Dataset.of(new float[6], Shape.of(3, 2), new float[2], Shape.of(2)));
        assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[2]"), e.getMessage());
    }

    @Test void splitIsSeededDisjointAndCoversEveryExample() {
        Dataset d = counting(100, 3);
        Dataset.Split a = d.split(0.2, 7), b = d.split(0.2, 7), c = d.split(0.2, 8);
        assertEquals(80, a.train().size());
        assertEquals(20, a.validation().size());
        Set<Float> seen = new HashSet<>();
        for (int i = 0; i < 80; i++) seen.add(a.train().label(i));
        for (int i = 0; i < 20; i++) assertTrue(seen.add(a.validation().label(i)), "validation overlaps train");
        assertEquals(100, seen.size());
        assertArrayEquals(a.validation().labels(), b.validation().labels());
        assertFalse(java.util.Arrays.equals(a.validation().labels(), c.validation().labels()));
        // Rows stay intact: features follow their label.
        Dataset v = a.validation();
        for (int i = 0; i < v.size(); i++) assertEquals(v.label(i) * 100 + 2, v.feature(i, 2));
    }

    @Test void takeAndSubsetKeepOrder() {
        Dataset d = counting(10, 2);
        assertArrayEquals(new float[] {0, 1, 2}, d.take(3).labels());
        assertArrayEquals(new float[] {9, 0, 9}, d.subset(new int[] {9, 0, 9}).labels());
        assertThrows(IndexOutOfBoundsException.class, () -> d.subset(new int[] {10}));
    }

    @Test void classLabelsOutOfRangeForTheLossAreNamed() {
        Dataset d = counting(5, 1);
        assertSame(d, d.requireClassLabels(5));
        var e = assertThrows(IllegalArgumentException.class, () -> d.requireClassLabels(4));
        assertTrue(e.getMessage().contains("label 4.0 at row 4") && e.getMessage().contains("[0, 4)"), e.getMessage());
        Dataset frac = Dataset.of(new float[] {0, 0}, Shape.of(2, 1), new float[] {0, 0.5f}, Shape.of(2));
        assertThrows(IllegalArgumentException.class, () -> frac.requireClassLabels(2));
    }

    @Test void standardizerFittedOnTrainGivesMeanZeroStdOne() {
        float[] x = new float[200 * 2];
        var rng = new java.util.Random(3);
        for (int i = 0; i < 200; i++) { x[2 * i] = (float) (5 + 3 * rng.nextGaussian()); x[2 * i + 1] = 7f; }
        Dataset d = Dataset.of(x, Shape.of(200, 2), new float[200], Shape.of(200));
        Standardizer s = Standardizer.fit(d);
        float[] z = s.apply(d).features();
        double m = 0, v = 0;
        for (int i = 0; i < 200; i++) m += z[2 * i];
        m /= 200;
        for (int i = 0; i < 200; i++) v += (z[2 * i] - m) * (z[2 * i] - m);
        assertEquals(0, m, 1e-5);
        assertEquals(1, Math.sqrt(v / 200), 1e-5);
        // A constant column maps to 0, not NaN.
        assertEquals(0f, z[1]);
        assertEquals(1f, s.std()[1]);
        float[] back = z.clone();
        s.invertInPlace(back);
        assertEquals(x[0], back[0], 1e-4);
    }
}
