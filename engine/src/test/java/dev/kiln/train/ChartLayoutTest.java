package dev.kiln.train;

import org.junit.jupiter.api.Test;

import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChartLayoutTest {
    private static double[] range(int n) { double[] x = new double[n]; for (int i = 0; i < n; i++) x[i] = i + 1; return x; }

    private static double[] decay(int n, double scale, double floor) {
        double[] y = new double[n];
        for (int i = 0; i < n; i++) y[i] = floor + scale * Math.exp(-i / 10.0) + 0.01 * Math.sin(i);
        return y;
    }

    /** Labels do not touch: each box ends at least a few pixels before the next begins (the old epoch axis read "101111121131"). */
    private static void assertApart(List<ChartLayout.PlacedTick> ticks, boolean horizontal) {
        for (int i = 1; i < ticks.size(); i++) {
            Rectangle2D a = ticks.get(i - 1).labelBox(), b = ticks.get(i).labelBox();
            double gap = horizontal ? b.getX() - a.getMaxX() : Math.abs(a.getCenterY() - b.getCenterY()) - a.getHeight();
            assertTrue(gap >= 4, "tick labels '" + ticks.get(i - 1).tick().label() + "' and '" + ticks.get(i).tick().label() + "' are " + gap + " px apart");
        }
    }

    @Test
    void epochTicksAreNiceNumbersWhoseLabelsNeverOverlap() {
        for (int epochs : new int[] {5, 17, 150, 200, 1280, 5000}) {
            Chart c = Chart.of("loss", "epoch", "MAE").withIntegerX().line("train", "train", range(epochs), decay(epochs, 1, 0.2));
            for (int width : new int[] {260, 380, 640, 900}) {
                ChartLayout l = ChartSheet.of(1, width, 400, c).layouts().getFirst();
                List<ChartLayout.PlacedTick> xs = l.xTicks();
                assertTrue(xs.size() >= (width >= 380 ? 3 : 2), epochs + " epochs on " + width + " px: only " + xs.size() + " ticks");
                assertApart(xs, true);
                assertApart(l.yTicks(), false);
                double step = xs.get(1).tick().value() - xs.get(0).tick().value();
                double mantissa = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
                assertTrue(Math.abs(mantissa - 1) < 1e-9 || Math.abs(mantissa - 2) < 1e-9 || Math.abs(mantissa - 5) < 1e-9, "step " + step);
                assertEquals(Math.rint(step), step, 0.0, "epoch ticks are whole numbers");
            }
        }
    }

    @Test
    void logAxesGetDecadesAndSubdivisionsWhenTheRangeIsShort() {
        // A loss from 3 down to 0.2 spans barely more than a decade: 2 and 5 fill in.
        Chart shortRange = Chart.of("", "step", "loss").withLogY().line("", "l", range(80), decay(80, 3, 0.2));
        List<ChartLayout.PlacedTick> ys = ChartSheet.of(1, 380, 270, shortRange).layouts().getFirst().yTicks();
        assertTrue(ys.size() >= 3, "short log range: " + ys.size() + " ticks");
        assertTrue(ys.stream().anyMatch(t -> t.tick().label().equals("0.5") || t.tick().label().equals("2")), "2/5 subdivisions expected: " + ys);
        assertApart(ys, false);
        // Within one decade (0.3 .. 0.9) there are still at least two labelled values.
        double[] flat = new double[50];
        for (int i = 0; i < flat.length; i++) flat[i] = 0.3 + 0.6 * i / 49.0;
        ys = ChartSheet.of(1, 380, 270, Chart.of("", "", "").withLogY().line("", "l", range(50), flat)).layouts().getFirst().yTicks();
        assertTrue(ys.size() >= 2, "within one decade: " + ys);
        assertApart(ys, false);
        // Ten decades on a short axis: decades only, every one or every other, apart.
        double[] wide = new double[50];
        for (int i = 0; i < wide.length; i++) wide[i] = Math.pow(10, -5 + 10 * i / 49.0);
        ys = ChartSheet.of(1, 380, 200, Chart.of("", "", "").withLogY().line("", "l", range(50), wide)).layouts().getFirst().yTicks();
        assertTrue(ys.size() >= 3, "ten decades: " + ys);
        for (ChartLayout.PlacedTick t : ys) assertEquals(0, Math.log10(t.tick().value()) % 1, 1e-9, "decade tick " + t.tick());
        assertApart(ys, false);
    }

    @Test
    void sharedYGivesEveryPanelTheSameScale() {
        List<Chart> panels = new ArrayList<>();
        panels.add(Chart.of("a", "", "").withLogY().line("", "l", range(20), decay(20, 3, 0.25)));
        panels.add(Chart.of("b", "", "").withLogY().line("", "l", range(20), decay(20, 300, 0.001)));
        List<ChartLayout> ls = new ChartSheet(Chart.sharedY(panels), 2, 380, 270).layouts();
        assertArrayEquals(ls.get(0).yRange(), ls.get(1).yRange(), 0.0);
        double lo = Math.min(panels.get(0).dataYRange()[0], panels.get(1).dataYRange()[0]);
        double hi = Math.max(panels.get(0).dataYRange()[1], panels.get(1).dataYRange()[1]);
        assertTrue(ls.get(0).yRange()[0] <= lo && ls.get(0).yRange()[1] >= hi, "shared range holds both panels' data");
        assertEquals(ls.get(0).yTicks().size(), ls.get(1).yTicks().size());
    }

    @Test
    void legendCoversNoPlottedPoint() {
        // Curves falling from the top left and rising to the top right leave only the bottom middle free... and a corner.
        double[] x = range(100), down = decay(100, 1, 0.1), up = new double[100];
        for (int i = 0; i < 100; i++) up[i] = 0.1 + i / 100.0;
        Chart c = Chart.of("t", "epoch", "y").withIntegerX().line("falling curve", "a", x, down).dashed("rising curve", "b", x, up);
        ChartLayout l = ChartSheet.of(1, 640, 440, c).layouts().getFirst();
        assertLegendClear(l);
        // A chart filled everywhere: the legend moves outside the plot area.
        double[] noise = new double[400], xs = new double[400];
        for (int i = 0; i < 400; i++) { xs[i] = i % 20; noise[i] = i / 20; }
        Chart full = Chart.of("t", "x", "y").points("grid A", "a", xs, noise).points("grid B", "b", xs, noise);
        ChartLayout f = ChartSheet.of(1, 640, 440, full).layouts().getFirst();
        assertTrue(f.legendOutside());
        assertLegendClear(f);
    }

    private static void assertLegendClear(ChartLayout l) {
        Rectangle2D legend = l.legend();
        assertNotNull(legend);
        for (double[] p : l.drawnPoints()) assertFalse(legend.contains(p[0], p[1]), "legend " + legend + " covers plotted point " + p[0] + "," + p[1]);
    }

    @Test
    void aColourKeyHasOneColourOnEveryPanel() {
        double[] x = range(10), y = decay(10, 1, 0);
        Chart left = Chart.of("loss", "", "").line("SGD train", "SGD", x, y).dashed("SGD validation", "SGD", x, y)
                .line("Adam train", "Adam", x, y).dashed("Adam validation", "Adam", x, y);
        Chart right = Chart.of("val", "", "").dashed("Adam validation", "Adam", x, y).dashed("SGD validation", "SGD", x, y);
        ChartSheet sheet = ChartSheet.of(2, 400, 300, left, right);
        List<ChartLayout> ls = sheet.layouts();
        assertEquals(ls.get(0).color("SGD"), ls.get(1).color("SGD"));
        assertEquals(ls.get(0).color("Adam"), ls.get(1).color("Adam"));
        assertFalse(ls.get(0).color("SGD").equals(ls.get(0).color("Adam")));
        assertEquals(2, sheet.colors().size());
    }

    @Test
    void historyPlotMarksTheBestValidationEpoch() {
        History h = new History();
        double[] val = {0.9, 0.7, 0.5, 0.6, 0.8};
        for (double v : val) h.append(java.util.Map.of("loss", v - 0.1, "val_loss", v));
        Chart c = h.sheet().charts().getFirst();
        assertEquals(1, c.marks().size());
        assertEquals(3, c.marks().getFirst().x());
        assertEquals(0.5, c.marks().getFirst().y());
        assertEquals(Chart.Style.DASHED, c.series().get(1).style());
    }

    @Test
    void niceNumberLabelsCarryTheDecimalsTheStepNeeds() {
        assertEquals("0.25", Ticks.format(0.25, 0.05));
        assertEquals("150", Ticks.format(150, 50));
        assertEquals("0.0", Ticks.format(-1e-17, 0.1));   // never "-0.0"
        assertEquals("1e-4", Ticks.logLabel(1e-4));
        assertEquals("0.02", Ticks.logLabel(0.02));
        assertEquals("5e5", Ticks.logLabel(5e5));
    }
}
