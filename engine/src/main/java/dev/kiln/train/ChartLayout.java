package dev.kiln.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where everything of one {@link Chart} goes in a w × h cell: the plot area, the ticks and their label
 * boxes, and the legend, put in the corner of the plot area that no curve crosses, or outside on the
 * right when every corner is taken. Computed once, then {@link #paint painted}; tests read the geometry.
 */
public final class ChartLayout {
    static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);
    private static final int ROW = 16, SWATCH = 24, PAD = 6;

    public record PlacedTick(Ticks.Tick tick, double px, Rectangle2D labelBox) {}

    private final Chart chart;
    private final Map<String, Color> colors;
    private final FontMetrics fm;
    private final Rectangle2D plot;
    private final double xMin, xMax, yMin, yMax;
    private final List<PlacedTick> xTicks, yTicks;
    private final Rectangle2D legend;
    private final boolean legendOutside;

    ChartLayout(Chart chart, int w, int h, Map<String, Color> colors) {
        this.chart = chart;
        this.colors = colors;
        this.fm = metrics();
        double[] xr = chart.dataXRange();
        double x0 = Double.isNaN(chart.xMin()) ? xr[0] : chart.xMin(), x1 = Double.isNaN(chart.xMax()) ? xr[1] : chart.xMax();
        if (!(x1 > x0)) { x0 -= 1; x1 += 1; }
        double[] yr = Double.isNaN(chart.yMin()) ? padY(chart.dataYRange()) : new double[] {chart.yMin(), chart.yMax()};
        xMin = x0; xMax = x1; yMin = yr[0]; yMax = yr[1];

        int top = chart.title().isEmpty() ? 10 : 28, bottom = chart.xLabel().isEmpty() ? 28 : 44;
        double plotH = h - top - bottom;
        List<Ticks.Tick> yt = chart.logY() ? Ticks.log(yMin, yMax, plotH, s -> fm.getHeight())
                : Ticks.linear(yMin, yMax, plotH, false, s -> fm.getHeight());
        int labelW = 0;
        for (Ticks.Tick t : yt) labelW = Math.max(labelW, fm.stringWidth(t.label()));
        int left = labelW + 10 + (chart.yLabel().isEmpty() ? 4 : 20);
        Rectangle2D area = new Rectangle2D.Double(left, top, w - left - 14, plotH);
        Rectangle2D lg = legendSize();
        Rectangle2D inside = lg == null ? null : emptiestCorner(area, lg);
        if (lg != null && inside == null) {
            area = new Rectangle2D.Double(left, top, w - left - 14 - lg.getWidth() - 10, plotH);
            lg = new Rectangle2D.Double(area.getMaxX() + 10, top, lg.getWidth(), lg.getHeight());
            legendOutside = true;
        } else {
            lg = inside;
            legendOutside = false;
        }
        plot = area;
        legend = lg;
        List<Ticks.Tick> xt = Ticks.linear(xMin, xMax, plot.getWidth(), chart.integerX(), fm::stringWidth);
        xTicks = new ArrayList<>();
        for (Ticks.Tick t : xt) {
            double px = xPx(t.value()), tw = fm.stringWidth(t.label());
            xTicks.add(new PlacedTick(t, px, new Rectangle2D.Double(px - tw / 2, plot.getMaxY() + 4, tw, fm.getHeight())));
        }
        yTicks = new ArrayList<>();
        for (Ticks.Tick t : yt) {
            double py = yPx(t.value()), tw = fm.stringWidth(t.label());
            yTicks.add(new PlacedTick(t, py, new Rectangle2D.Double(plot.getX() - 6 - tw, py - fm.getHeight() / 2.0, tw, fm.getHeight())));
        }
    }

    private double[] padY(double[] r) {
        if (!(r[0] <= r[1])) return chart.logY() ? new double[] {0.1, 10} : new double[] {0, 1};
        if (chart.logY()) {
            double f = r[1] > r[0] ? Math.pow(r[1] / r[0], 0.04) : 2;
            return new double[] {r[0] / f, r[1] * f};
        }
        return Ticks.pad(r[0], r[1]);
    }

    static FontMetrics metrics() {
        BufferedImage one = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = one.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            return g.getFontMetrics(FONT);
        } finally {
            g.dispose();
        }
    }

    /** The legend's size (at the origin), or null when there is nothing to name. */
    private Rectangle2D legendSize() {
        List<String> names = legendNames();
        if (names.size() < 2 && chart.marks().isEmpty()) return null;
        int wMax = 0;
        for (String n : names) wMax = Math.max(wMax, fm.stringWidth(n));
        return new Rectangle2D.Double(0, 0, SWATCH + 6 + wMax + 2 * PAD, names.size() * ROW + 2 * PAD);
    }

    private List<String> legendNames() {
        List<String> names = new ArrayList<>();
        for (Chart.Series s : chart.series()) if (!s.name().isEmpty()) names.add(s.name());
        return names;
    }

    /** The inside corner whose legend box no plotted point, line or label reaches, or null. */
    private Rectangle2D emptiestCorner(Rectangle2D area, Rectangle2D size) {
        double m = 6, lw = size.getWidth(), lh = size.getHeight();
        if (lw > area.getWidth() * 0.6 || lh > area.getHeight() * 0.6) return null;
        double[][] corners = {{area.getMaxX() - m - lw, area.getY() + m}, {area.getX() + m, area.getY() + m},
                {area.getMaxX() - m - lw, area.getMaxY() - m - lh}, {area.getX() + m, area.getMaxY() - m - lh}};
        for (double[] c : corners) {
            Rectangle2D box = new Rectangle2D.Double(c[0], c[1], lw, lh);
            if (!occupied(box, area)) return box;
        }
        return null;
    }

    /** Whether any drawn point (lines sampled every 2 px, rules, marks and their labels) falls within 4 px of box. */
    private boolean occupied(Rectangle2D box, Rectangle2D area) {
        Rectangle2D grown = new Rectangle2D.Double(box.getX() - 4, box.getY() - 4, box.getWidth() + 8, box.getHeight() + 8);
        for (double[] p : drawnPoints(area)) if (grown.contains(p[0], p[1])) return true;
        for (Chart.Mark mk : chart.marks()) if (grown.intersects(markLabelBox(mk, area))) return true;
        for (Chart.Rule r : chart.rules()) if (grown.intersects(ruleLabelBox(r, area))) return true;
        return false;
    }

    /** Pixel positions of everything plotted in the area (lines sampled every 2 px), for placement and tests. */
    public List<double[]> drawnPoints() { return drawnPoints(plot); }

    private List<double[]> drawnPoints(Rectangle2D area) {
        List<double[]> pts = seriesPoints(area);
        for (Chart.Rule r : chart.rules()) for (double x = area.getX(); x <= area.getMaxX(); x += 2) pts.add(new double[] {x, yPx(r.y(), area)});
        for (Chart.Mark mk : chart.marks()) {
            double x = xPx(mk.x(), area);
            for (double y = yPx(mk.y(), area); y <= area.getMaxY(); y += 2) pts.add(new double[] {x, y});
        }
        pts.removeIf(p -> !area.contains(p[0], p[1]));
        return pts;
    }

    /** The label beside a mark: the first spot around it (right before left, near before far) that no curve crosses. */
    private Rectangle2D markLabelBox(Chart.Mark mk, Rectangle2D area) {
        double x = xPx(mk.x(), area), y = yPx(mk.y(), area), tw = fm.stringWidth(mk.label()), th = fm.getHeight();
        List<double[]> curves = seriesPoints(area);
        Rectangle2D first = null;
        for (double dy : new double[] {-8 - th, 8, -28 - th, 28, -48 - th, 48}) {
            for (double lx : new double[] {x + 10, x - 10 - tw}) {
                Rectangle2D box = new Rectangle2D.Double(lx, y + dy, tw, th);
                if (!area.contains(box)) continue;
                if (first == null) first = box;
                boolean free = true;
                for (double[] p : curves) if (box.contains(p[0], p[1])) { free = false; break; }
                if (free) return box;
            }
        }
        return first != null ? first : new Rectangle2D.Double(x + 10, y - 8 - th, tw, th);
    }

    /** Pixel samples of the series alone (what a mark's label must not cover). */
    private List<double[]> seriesPoints(Rectangle2D area) {
        List<double[]> pts = new ArrayList<>();
        for (Chart.Series s : chart.series()) {
            double[] px = null;
            for (int i = 0; i < s.x().length; i++) {
                if (!chart.usable(s.y()[i])) { px = null; continue; }
                double[] p = {xPx(s.x()[i], area), yPx(s.y()[i], area)};
                if (s.style() != Chart.Style.POINTS && px != null) {
                    double len = Math.hypot(p[0] - px[0], p[1] - px[1]);
                    for (double t = 2; t < len; t += 2) pts.add(new double[] {px[0] + (p[0] - px[0]) * t / len, px[1] + (p[1] - px[1]) * t / len});
                }
                pts.add(p);
                px = p;
            }
        }
        return pts;
    }

    /**
     * The label of a rule: beside the line (above, then below; right end, left end, middle), then
     * further from it, the first spot that no curve crosses; when every spot is crossed, the one
     * crossed least (painted on a white box, so it stays readable).
     */
    private Rectangle2D ruleLabelBox(Chart.Rule r, Rectangle2D area) {
        double tw = fm.stringWidth(r.label()), th = fm.getHeight();
        double y = yPx(r.y(), area);
        List<double[]> curves = seriesPoints(area);
        Rectangle2D best = null;
        int bestHits = Integer.MAX_VALUE;
        for (double ly : new double[] {y - 3 - th, y + 3, y - 23 - th, y + 23, y - 43 - th, y + 43}) {
            for (double lx : new double[] {area.getMaxX() - 6 - tw, area.getX() + 6, area.getCenterX() - tw / 2}) {
                Rectangle2D box = new Rectangle2D.Double(lx, ly, tw, th);
                if (!area.contains(box)) continue;
                int hits = 0;
                for (double[] p : curves) if (box.contains(p[0], p[1])) hits++;
                if (hits == 0) return box;
                if (hits < bestHits) { best = box; bestHits = hits; }
            }
        }
        return best != null ? best : new Rectangle2D.Double(area.getMaxX() - 6 - tw, y + 3, tw, th);
    }

    /** Where each rule's label goes, in rule order. */
    public List<Rectangle2D> ruleLabels() {
        List<Rectangle2D> boxes = new ArrayList<>();
        for (Chart.Rule r : chart.rules()) boxes.add(ruleLabelBox(r, plot));
        return boxes;
    }

    double xPx(double x) { return xPx(x, plot); }

    double yPx(double y) { return yPx(y, plot); }

    private double xPx(double x, Rectangle2D area) { return area.getX() + (x - xMin) / (xMax - xMin) * area.getWidth(); }

    private double yPx(double y, Rectangle2D area) {
        double f = chart.logY() ? (Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) : (y - yMin) / (yMax - yMin);
        return area.getMaxY() - f * area.getHeight();
    }

    public Rectangle2D plotArea() { return (Rectangle2D) plot.clone(); }

    public List<PlacedTick> xTicks() { return List.copyOf(xTicks); }

    public List<PlacedTick> yTicks() { return List.copyOf(yTicks); }

    /** The legend box, or null when the chart has one unnamed series. */
    public Rectangle2D legend() { return legend == null ? null : (Rectangle2D) legend.clone(); }

    public boolean legendOutside() { return legendOutside; }

    /** Where each mark's label goes, in mark order. */
    public List<Rectangle2D> markLabels() {
        List<Rectangle2D> boxes = new ArrayList<>();
        for (Chart.Mark mk : chart.marks()) boxes.add(markLabelBox(mk, plot));
        return boxes;
    }

    /** Pixel samples of the series alone, for tests. */
    public List<double[]> seriesPoints() { return seriesPoints(plot); }

    public double[] yRange() { return new double[] {yMin, yMax}; }

    public Color color(String colorKey) { return colors.getOrDefault(colorKey, Color.DARK_GRAY); }

    void paint(Graphics2D g, int w, int h) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        if (chart.series().isEmpty() && chart.title().isEmpty()) return;
        g.setFont(TITLE_FONT);
        g.setColor(Color.BLACK);
        g.drawString(chart.title(), (int) (plot.getCenterX() - g.getFontMetrics().stringWidth(chart.title()) / 2.0), 18);
        g.setFont(FONT);
        g.setColor(new Color(236, 236, 236));
        for (PlacedTick t : xTicks) g.draw(new Line2D.Double(t.px(), plot.getY(), t.px(), plot.getMaxY()));
        for (PlacedTick t : yTicks) g.draw(new Line2D.Double(plot.getX(), t.px(), plot.getMaxX(), t.px()));
        g.setColor(Color.DARK_GRAY);
        for (PlacedTick t : xTicks) g.drawString(t.tick().label(), (float) t.labelBox().getX(), (float) (t.labelBox().getY() + fm.getAscent()));
        for (PlacedTick t : yTicks) g.drawString(t.tick().label(), (float) t.labelBox().getX(), (float) (t.labelBox().getY() + fm.getAscent()));
        g.drawString(chart.xLabel(), (float) (plot.getCenterX() - fm.stringWidth(chart.xLabel()) / 2.0), (float) (plot.getMaxY() + 6 + 2 * fm.getHeight()));
        Graphics2D r = (Graphics2D) g.create();
        r.rotate(-Math.PI / 2);
        r.drawString(chart.yLabel(), (float) (-plot.getCenterY() - fm.stringWidth(chart.yLabel()) / 2.0), 14f);
        r.dispose();

        Graphics2D clip = (Graphics2D) g.create();
        clip.clip(plot);
        for (Chart.Rule rule : chart.rules()) {
            clip.setColor(new Color(90, 90, 90));
            clip.setStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
            double y = yPx(rule.y());
            clip.draw(new Line2D.Double(plot.getX(), y, plot.getMaxX(), y));
        }
        for (Chart.Series s : chart.series()) drawSeries(clip, s);
        for (Chart.Rule rule : chart.rules()) {   // labels over the curves, on white, where the curves cross them least
            Rectangle2D b = ruleLabelBox(rule, plot);
            clip.setColor(Color.WHITE);
            clip.fill(b);
            clip.setColor(new Color(90, 90, 90));
            clip.drawString(rule.label(), (float) b.getX(), (float) (b.getY() + fm.getAscent()));
        }
        for (Chart.Mark mk : chart.marks()) {
            Color c = color(mk.colorKey());
            double x = xPx(mk.x()), y = yPx(mk.y());
            clip.setColor(c);
            clip.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {2, 3}, 0));
            clip.draw(new Line2D.Double(x, y, x, plot.getMaxY()));
            clip.setStroke(new BasicStroke(2.5f));
            clip.draw(new Ellipse2D.Double(x - 6, y - 6, 12, 12));
            Rectangle2D b = markLabelBox(mk, plot);
            clip.setColor(Color.BLACK);
            clip.drawString(mk.label(), (float) b.getX(), (float) (b.getY() + fm.getAscent()));
        }
        clip.dispose();
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1f));
        g.draw(plot);
        if (legend != null) paintLegend(g);
    }

    private void drawSeries(Graphics2D g, Chart.Series s) {
        Color c = color(s.colorKey());
        if (s.style() == Chart.Style.POINTS) {
            g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 110));
            for (int i = 0; i < s.x().length; i++) {
                if (!chart.usable(s.y()[i])) continue;
                g.fill(new Ellipse2D.Double(xPx(s.x()[i]) - 2.5, yPx(s.y()[i]) - 2.5, 5, 5));
            }
            return;
        }
        g.setColor(c);
        g.setStroke(stroke(s));
        Path2D path = new Path2D.Double();
        boolean open = false;
        for (int i = 0; i < s.x().length; i++) {
            if (!chart.usable(s.y()[i])) { open = false; continue; }
            double x = xPx(s.x()[i]), y = Math.max(plot.getY() - 1e4, Math.min(plot.getMaxY() + 1e4, yPx(s.y()[i])));
            if (open) path.lineTo(x, y); else path.moveTo(x, y);
            open = true;
        }
        g.draw(path);
    }

    private static BasicStroke stroke(Chart.Series s) {
        return s.style() == Chart.Style.DASHED
                ? new BasicStroke(s.width(), BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10, new float[] {7, 4}, 0)
                : new BasicStroke(s.width(), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    }

    private void paintLegend(Graphics2D g) {
        g.setColor(new Color(255, 255, 255, 235));
        g.fill(legend);
        g.setColor(new Color(200, 200, 200));
        g.setStroke(new BasicStroke(1f));
        g.draw(legend);
        double y = legend.getY() + PAD;
        for (Chart.Series s : chart.series()) {
            if (s.name().isEmpty()) continue;
            double mid = y + ROW / 2.0, x = legend.getX() + PAD;
            g.setColor(color(s.colorKey()));
            if (s.style() == Chart.Style.POINTS) {
                g.fill(new Ellipse2D.Double(x + SWATCH / 2.0 - 3, mid - 3, 6, 6));
            } else {
                g.setStroke(stroke(s));
                Shape l = new Line2D.Double(x, mid, x + SWATCH, mid);
                g.draw(l);
            }
            g.setColor(Color.BLACK);
            g.drawString(s.name(), (float) (x + SWATCH + 6), (float) (mid - fm.getHeight() / 2.0 + fm.getAscent()));
            y += ROW;
        }
    }
}
