package dev.kiln.train;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Charts laid out row by row on one PNG. Colours belong to the sheet: a colour key ("Adam") gets the
 * same colour on every panel.
 *
 * <pre>{@code ChartSheet.of(2, 640, 440, loss, accuracy).write(Path.of("curves.png")); }</pre>
 */
public record ChartSheet(List<Chart> charts, int columns, int cellWidth, int cellHeight) {
    /** Colour-blind-friendly, distinct in grey scale order (Okabe–Ito, then a few more). */
    static final List<Color> PALETTE = List.of(new Color(0, 114, 178), new Color(230, 159, 0), new Color(0, 158, 115),
            new Color(204, 121, 167), new Color(213, 94, 0), new Color(86, 180, 233), new Color(120, 120, 120), new Color(240, 200, 40));

    public ChartSheet {
        charts = List.copyOf(charts);
        if (columns < 1) throw new IllegalArgumentException("a sheet needs at least one column, got " + columns);
    }

    public static ChartSheet of(int columns, int cellWidth, int cellHeight, Chart... charts) {
        return new ChartSheet(List.of(charts), columns, cellWidth, cellHeight);
    }

    /** One colour per colour key, in order of first appearance over all panels. */
    public Map<String, Color> colors() {
        Map<String, Color> m = new LinkedHashMap<>();
        for (Chart c : charts) {
            for (Chart.Series s : c.series()) if (!m.containsKey(s.colorKey())) m.put(s.colorKey(), PALETTE.get(m.size() % PALETTE.size()));
            for (Chart.Mark mk : c.marks()) if (!m.containsKey(mk.colorKey())) m.put(mk.colorKey(), PALETTE.get(m.size() % PALETTE.size()));
        }
        return m;
    }

    /** Each panel's geometry, in sheet order. */
    public List<ChartLayout> layouts() {
        Map<String, Color> colors = colors();
        List<ChartLayout> out = new ArrayList<>();
        for (Chart c : charts) out.add(new ChartLayout(c, cellWidth, cellHeight, colors));
        return out;
    }

    public BufferedImage image() {
        int cols = Math.min(columns, Math.max(1, charts.size())), rows = Math.max(1, (charts.size() + columns - 1) / columns);
        BufferedImage img = new BufferedImage(cellWidth * cols, cellHeight * rows, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            List<ChartLayout> layouts = layouts();
            for (int i = 0; i < layouts.size(); i++) {
                Graphics2D cell = (Graphics2D) g.create((i % columns) * cellWidth, (i / columns) * cellHeight, cellWidth, cellHeight);
                layouts.get(i).paint(cell, cellWidth, cellHeight);
                cell.dispose();
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    /** Writes the sheet as a PNG (to a temporary file, then moved into place). */
    public void write(Path png) {
        BufferedImage img = image();
        History.writeAtomically(png, tmp -> {
            if (!javax.imageio.ImageIO.write(img, "png", tmp.toFile())) throw new java.io.IOException("no PNG writer in this JDK");
        });
    }
}
