package dev.kiln.metric;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Metrics on small hand-made batches, against counts worked out by hand (tolerance 1e-12). */
class MetricValuesTest {
    private static final double TOL = 1e-12;

    private static double run(Metric m, float[] p, float[] t, int rows, int predCols, int targetCols) {
        m.reset();
        m.update(p, t, rows, predCols, targetCols);
        return m.result();
    }

    @Test
    void accuracyOnBinaryOneHotAndSparseTargets() {
        // one column: thresholded at 0.5 -> hits on rows 0, 1, 3
        assertEquals(0.75, run(Metric.accuracy(), new float[] {0.9f, 0.4f, 0.6f, 0.2f}, new float[] {1, 0, 0, 0}, 4, 1, 1), TOL);
        // three classes: arg-maxes 2, 0, 1
        float[] p = {0.1f, 0.2f, 0.7f, 0.5f, 0.3f, 0.2f, 0.3f, 0.4f, 0.3f};
        assertEquals(2.0 / 3, run(Metric.accuracy(), p, new float[] {0, 0, 1, 1, 0, 0, 0, 0, 1}, 3, 3, 3), TOL);
        assertEquals(2.0 / 3, run(Metric.accuracy(), p, new float[] {2, 0, 2}, 3, 3, 1), TOL);
        assertEquals(1.0, run(Metric.accuracy(), p, new float[] {2, 0, 1}, 3, 3, 1), TOL);
    }

    @Test
    void binaryAccuracyWithDefaultAndCustomThreshold() {
        float[] p = {0.9f, 0.4f, 0.6f, 0.2f}, t = {1, 1, 0, 0};
        assertEquals(0.5, run(Metric.binaryAccuracy(), p, t, 4, 1, 1), TOL);
        assertEquals(0.75, run(Metric.binaryAccuracy(0.3), p, t, 4, 1, 1), TOL);
    }

    @Test
    void precisionAndRecallFromAHandMadeConfusionMatrix() {
        // predicted positive (> 0.5): 0.9 (1) tp, 0.8 (1) tp, 0.7 (0) fp, 0.6 (0) fp; 0.3 (1) fn; 0.2 (0) tn
        float[] p = {0.9f, 0.8f, 0.7f, 0.3f, 0.2f, 0.6f}, t = {1, 1, 0, 1, 0, 0};
        assertEquals(2.0 / 4, run(Metric.precision(), p, t, 6, 1, 1), TOL);
        assertEquals(2.0 / 3, run(Metric.recall(), p, t, 6, 1, 1), TOL);
        // streaming: the same rows in two batches give the same counts
        Metric r = Metric.recall();
        r.reset();
        r.update(new float[] {0.9f, 0.8f, 0.7f}, new float[] {1, 1, 0}, 3, 1, 1);
        r.update(new float[] {0.3f, 0.2f, 0.6f}, new float[] {1, 0, 0}, 3, 1, 1);
        assertEquals(2.0 / 3, r.result(), TOL);
    }

    @Test
    void aucIsExactWhenEveryPairIsSeparatedByAThreshold() {
        // positives 0.9, 0.8, 0.35; negatives 0.7, 0.3, 0.1: 8 of 9 pairs ranked right (0.35 < 0.7), exact AUC 8/9.
        // Each positive/negative pair lies on two sides of at least one of the thresholds i/199, so
        // the 200-threshold trapezoid passes through every ROC point and equals the exact value.
        float[] p = {0.9f, 0.7f, 0.8f, 0.3f, 0.35f, 0.1f}, t = {1, 0, 1, 0, 1, 0};
        assertEquals(8.0 / 9, run(Metric.auc(), p, t, 6, 1, 1), 1e-12);
    }

    @Test
    void aucCountsAPairInsideOneThresholdBinAsHalf() {
        // 0.501 and 0.502 both lie in (99/199, 100/199) = (0.4975, 0.5025): Keras's interpolated AUC
        // cannot order them and gives that pair 1/2. Exact AUC is 1; interpolated (3 + 1/2) / 4 = 0.875.
        // The error bound: pairs sharing a bin / (2 · positives · negatives) = 1/8.
        float[] p = {0.502f, 0.501f, 0.9f, 0.1f}, t = {1, 0, 1, 0};
        double auc = run(Metric.auc(), p, t, 4, 1, 1);
        assertEquals(0.875, auc, 1e-12);
        assertTrue(1.0 - auc <= 1.0 / 8 + 1e-12);
    }

    @Test
    void meanAbsoluteError() {
        assertEquals((0.5 + 1 + 0) / 3, run(Metric.mae(), new float[] {1, 2, 3}, new float[] {1.5f, 1, 3}, 3, 1, 1), TOL);
    }
}
