package dev.kiln.data;

import dev.kiln.eager.Tensor;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A dataset of several named inputs and targets keeps its rows aligned through shuffling, prefetch, subsets and splits. */
class NamedInputsBatchesTest {
    /** Row r: a = [r·10, r·10 + 1], b = [r·100, r·100 + 1, r·100 + 2], targets out1 = r, out2 = [-r, r + 0.5]. */
    static Dataset rows(int n) {
        float[] a = new float[n * 2], b = new float[n * 3], t1 = new float[n], t2 = new float[n * 2];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < 2; j++) a[r * 2 + j] = r * 10 + j;
            for (int j = 0; j < 3; j++) b[r * 3 + j] = r * 100 + j;
            t1[r] = r;
            t2[r * 2] = -r;
            t2[r * 2 + 1] = r + 0.5f;
        }
        return Dataset.of(Map.of("b", Tensor.of(Shape.of(n, 3), b), "a", Tensor.of(Shape.of(n, 2), a)),
                Map.of("out2", Tensor.of(Shape.of(n, 2), t2), "out1", Tensor.of(Shape.of(n), t1)));
    }

    /** Every row of the batch holds the same example in every array. */
    static void assertAligned(Batch batch, Dataset d) {
        int ia = d.inputIndex("a"), ib = d.inputIndex("b"), k1 = d.targetIndex("out1"), k2 = d.targetIndex("out2");
        for (int i = 0; i < batch.size(); i++) {
            int r = (int) batch.labels(k1)[i];
            assertEquals(r * 10 + 1, batch.features(ia)[i * 2 + 1]);
            assertEquals(r * 100 + 2, batch.features(ib)[i * 3 + 2]);
            assertEquals(-r, batch.labels(k2)[i * 2]);
            assertEquals(r + 0.5f, batch.labels(k2)[i * 2 + 1]);
        }
    }

    @Test void inputsAreSortedByNameAndDescribed() {
        Dataset d = rows(5);
        assertEquals(java.util.List.of("a", "b"), d.inputNames());
        assertEquals(java.util.List.of("out1", "out2"), d.targetNames());
        assertEquals(Shape.of(3), d.exampleShape(d.inputIndex("b")));
        assertEquals("Dataset[5 examples, input 'a' [5, 2], input 'b' [5, 3], target 'out1' [5], target 'out2' [5, 2]]", d.toString());
        var single = assertThrows(IllegalStateException.class, d::features);
        assertTrue(single.getMessage().contains("2 inputs [a, b]"), single.getMessage());
    }

    @Test void shuffledPrefetchedBatchesKeepEveryArrayAligned() {
        Dataset d = rows(53);
        for (boolean prefetch : new boolean[] {false, true}) {
            try (Loader loader = Batches.of(d, 8).withSeed(9).withPrefetch(prefetch).open()) {
                for (int epoch = 0; epoch < 3; epoch++) {
                    int[] seen = new int[53];
                    boolean shuffled = false;
                    int at = 0;
                    for (Batch b : loader.epoch(epoch)) {
                        assertAligned(b, d);
                        for (int i = 0; i < b.size(); i++) {
                            int r = (int) b.labels(d.targetIndex("out1"))[i];
                            seen[r]++;
                            if (r != at++) shuffled = true;
                        }
                    }
                    for (int c : seen) assertEquals(1, c);
                    assertTrue(shuffled, "epoch " + epoch + " was not shuffled");
                }
            }
        }
    }

    @Test void subsetsAndSplitsKeepEveryArrayAligned() {
        Dataset.Split s = rows(40).split(0.25, 3);
        for (Dataset part : new Dataset[] {s.train(), s.validation(), rows(40).subset(new int[] {7, 3, 3, 39})}) {
            try (Loader loader = Batches.of(part, part.size()).withShuffle(false).open()) {
                for (Batch b : loader.epoch(0)) assertAligned(b, part);
            }
        }
        assertEquals(30, s.train().size());
        assertEquals(java.util.List.of("a", "b"), s.validation().inputNames());
    }

    @Test void augmentationAsksForOneImageInput() {
        var e = assertThrows(IllegalArgumentException.class, () -> Batches.of(rows(4), 2).withAugment(Augment.none().withFlip(true)));
        assertTrue(e.getMessage().contains("2 inputs [a, b]"), e.getMessage());
    }
}
