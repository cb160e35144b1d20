package dev.kiln.graph;

import dev.kiln.tensor.Shape;
import dev.kiln.testing.BatchNormStep;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused training gradient ({@link BatchNormGrad}) against the composed one autodiff makes through the statistics,
 * both on the reference interpreter (double throughout). The two are the same function written two ways, so they agree
 * to double rounding; {@value #TOLERANCE} relative to the largest element of each gradient leaves room for the
 * cancellation in m·dy - Σdy - xhat·Σ(dy·xhat) (a few hundred terms: ~1e-13) while a wrong term (a missing Σdy, the
 * unbiased variance, m off by one) moves results by 1e-3 or more.
 */
class BatchNormGradTest {
    static final double TOLERANCE = 1e-9;

    @Test
    void fusedGradientMatchesTheComposedOneThroughTheStatistics() {
        for (int[] size : new int[][] {{2, 5, 4}, {1, 1, 3}, {1, 2, 1}, {3, 4, 7}}) {
            BatchNormStep fused = BatchNormStep.convBnRelu(true, size[0], size[1], size[2]);
            BatchNormStep composed = BatchNormStep.convBnRelu(false, size[0], size[1], size[2]);
            List<double[]> f = run(fused, 7), c = run(composed, 7);
            String[] names = {"loss", "dx", "dfilter", "dgamma", "dbeta"};
            for (int o = 0; o < names.length; o++) {
                double scale = maxAbs(c.get(o)), worst = 0;
                for (int i = 0; i < c.get(o).length; i++) worst = Math.max(worst, Math.abs(f.get(o)[i] - c.get(o)[i]));
                assertTrue(worst <= TOLERANCE * scale, names[o] + " at " + Arrays.toString(size) + ": differs by " + worst + " (scale " + scale + ")");
            }
            // one row per channel normalises every value to 0 whatever x is: dx is zero there, and nowhere else
            assertEquals(size[0] * size[1] * size[1] == 1, maxAbs(c.get(1)) == 0, "dx all zero at " + Arrays.toString(size));
        }
    }

    @Test
    void theFusedFormHasOneGradientOpAndNoneToTheStatistics() {
        BatchNormStep fused = BatchNormStep.convBnRelu(true, 2, 3, 4);
        long grads = fused.graph().schedule().stream().filter(n -> n.op() instanceof BatchNormGrad).count();
        assertEquals(1, grads);
        BatchNormStep composed = BatchNormStep.convBnRelu(false, 2, 3, 4);
        assertEquals(0, composed.graph().schedule().stream().filter(n -> n.op() instanceof BatchNormGrad).count());
        assertTrue(composed.graph().schedule().size() > fused.graph().schedule().size(), "the fused gradient replaces the ops through the statistics");
    }

    @Test
    void itsShapesAreChecked() {
        Node x = Ops.input("x", Shape.of(4, 3)), c = Ops.input("c", Shape.of(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.batchNormGrad(x, c, c, c, c, 1e-3));
        assertTrue(e.getMessage().contains("dy has shape [3]"), e.getMessage());
        assertEquals(x.shape(), Ops.batchNormGrad(x, x, c, c, c, 1e-3).shape());
    }

    private static List<double[]> run(BatchNormStep s, long seed) {
        float[][] feeds = s.feeds(seed);
        Map<Node, double[]> m = new HashMap<>();
        for (int i = 0; i < feeds.length; i++) {
            double[] d = new double[feeds[i].length];
            for (int k = 0; k < d.length; k++) d[k] = feeds[i][k];
            m.put(s.inputs().get(i), d);
        }
        return new Interpreter().run(s.graph(), m);
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }
}
