package dev.kiln.examples;

import dev.kiln.train.Chart;
import dev.kiln.train.ChartLayout;
import dev.kiln.train.ChartSheet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The examples' figures (issue 19, item 2): readable ticks, one colour per optimizer, shared scales, the best epoch and the noise floor drawn. */
class ReadablePlotsTest {
    private static void assertReadable(ChartLayout l) {
        List<ChartLayout.PlacedTick> xs = l.xTicks();
        assertTrue(xs.size() >= 2, "x ticks: " + xs.size());
        for (int i = 1; i < xs.size(); i++) assertTrue(xs.get(i).labelBox().getX() - xs.get(i - 1).labelBox().getMaxX() >= 4, "x labels overlap");
        Rectangle2D legend = l.legend();
        if (legend != null) for (double[] p : l.drawnPoints()) assertFalse(legend.contains(p[0], p[1]), "legend covers a curve");
        for (Rectangle2D label : l.ruleLabels()) for (double[] p : l.seriesPoints()) assertFalse(label.contains(p[0], p[1]), "a rule's label " + label + " covers a curve");
    }

    @Test
    void regressionUsesOneColourPerOptimizerOnBothPanels(@TempDir Path out) throws IOException {
        Regression.Result r = Regression.run(12, out, false);
        ChartSheet sheet = Regression.sheet(r.sgd(), r.adam(), 1.0, r.baselineMae(), 12);
        List<ChartLayout> ls = sheet.layouts();
        for (ChartLayout l : ls) assertReadable(l);
        String sgd = r.sgd().optimizer(), adam = r.adam().optimizer();
        assertEquals(ls.get(0).color(sgd), ls.get(1).color(sgd));
        assertNotEquals(ls.get(0).color(sgd), ls.get(0).color(adam));
        // The validation curves are dashed on both panels; train solid.
        for (Chart c : sheet.charts()) for (Chart.Series s : c.series())
            assertEquals(s.name().endsWith("validation") ? Chart.Style.DASHED : Chart.Style.LINE, s.style(), s.name());
        assertEquals(1, sheet.charts().get(1).rules().size(), "the predict-the-mean baseline is drawn");
    }

    @Test
    void earlyStoppingMarksTheBestEpochAndDrawsTheStoppedRunBeneath(@TempDir Path out) throws IOException {
        EarlyStoppingExample.Result r = EarlyStoppingExample.run(40, out, false);
        ChartSheet sheet = EarlyStoppingExample.sheet(r.underfit(), r.overfit(), r.early(), r.bestEpoch() + 1, 40);
        Chart c = sheet.charts().getFirst();
        assertEquals(1, c.marks().size());
        assertEquals(r.bestEpoch() + 1, c.marks().getFirst().x());
        assertEquals(r.early().history().get("val_loss").get(r.bestEpoch()), c.marks().getFirst().y());
        // The early-stopping run shares the overfitting run's first epochs: it is drawn first and wider, so both stay visible.
        assertEquals(r.early().name(), c.series().getFirst().colorKey());
        assertTrue(c.series().getFirst().width() > 2 * c.series().getLast().width());
        ChartLayout l = sheet.layouts().getFirst();
        assertReadable(l);
        Rectangle2D label = l.markLabels().getFirst();
        for (double[] p : l.seriesPoints()) assertFalse(label.contains(p[0], p[1]), "the best-epoch label " + label + " sits on a curve");
    }

    @Test
    void gridLossPanelsShareOneLogScaleWithTheNoiseFloor(@TempDir Path out) throws IOException {
        LearningRateBatchGrid.Result r = LearningRateBatchGrid.run(LearningRateBatchGrid.GRID, 3, out, false);
        List<Chart> cells = LearningRateBatchGrid.gridCharts(r.runs(), 4);
        ChartSheet sheet = new ChartSheet(cells, 4, 380, 270);
        List<ChartLayout> ls = sheet.layouts();
        double[] first = null;
        int lossPanels = 0;
        for (int i = 0; i < cells.size(); i++) {
            if (!cells.get(i).logY()) continue;
            lossPanels++;
            assertEquals(0.25, cells.get(i).rules().getFirst().y(), 1e-12, "noise floor drawn");
            assertTrue(ls.get(i).yTicks().size() >= 3, "log ticks on panel " + i + ": " + ls.get(i).yTicks().size());
            if (first == null) first = ls.get(i).yRange(); else assertArrayEquals(first, ls.get(i).yRange(), 0.0);
            assertReadable(ls.get(i));
        }
        assertEquals(r.runs().size(), lossPanels);
    }
}
