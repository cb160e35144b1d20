package dev.kiln.nn;

import dev.kiln.compile.Program;
import dev.kiln.compile.ProgramPlot;
import dev.kiln.compile.Instruction;
import dev.kiln.compile.Slot;
import dev.kiln.io.Graphviz;
import dev.kiln.loss.Loss;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** model.plot and program.dump (issue 19, item 5): the DOT text, and the pictures where Graphviz is installed. */
class ModelPlotTest {
    /** A branch (two layers reading the same value, then Add), a frozen layer, and a softmax output. */
    private static Model branched() {
        Symbol in = Input.named("features", 6);
        Dense frozen = Dense.of(8).relu().named("frozen_dense");
        frozen.setTrainable(false);
        Symbol h = frozen.apply(in);
        Symbol a = Dense.of(8).relu().named("left").apply(h), b = Dense.of(8).named("right").apply(h);
        Symbol s = Add.of().named("sum").apply(a, b);
        return Model.of(in, Dense.of(3).softmax().named("probs").apply(s)).seed(5);
    }

    @Test
    void modelDotHasEveryLayerAndTheShapeOnEveryEdge() {
        String dot = branched().plotDot();
        for (String node : List.of("\"input:features\"", "\"layer:frozen_dense\"", "\"layer:left\"", "\"layer:right\"", "\"layer:sum\"", "\"layer:probs\"")) {
            assertTrue(dot.contains(node + " [label="), "node " + node + " in\n" + dot);
        }
        assertTrue(dot.contains("\"input:features\" -> \"layer:frozen_dense\" [label=\" (None, 6)\"]"), dot);
        assertTrue(dot.contains("\"layer:frozen_dense\" -> \"layer:left\" [label=\" (None, 8)\"]"), dot);
        assertTrue(dot.contains("\"layer:frozen_dense\" -> \"layer:right\" [label=\" (None, 8)\"]"), dot);
        assertTrue(dot.contains("\"layer:left\" -> \"layer:sum\""), dot);
        assertTrue(dot.contains("\"layer:right\" -> \"layer:sum\""), dot);
        assertTrue(dot.contains("-> \"output:probs\" [label=\" (None, 3)\"]"), dot);
        assertTrue(dot.contains("frozen_dense\\nDense (relu)\\n56 weights, frozen"), dot);
        assertTrue(dot.contains("probs\\nDense (softmax)\\n27 weights\""), dot);
        assertEquals(7, count(dot, "->"), "one edge per layer input and one to the output:\n" + dot);
    }

    @Test
    void programDotListsFusedKernelsAndBufferReuse() {
        Model m = branched();
        m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy());
        Program p = m.trainingPlan(4);
        String dot = ProgramPlot.dot(p);
        List<Instruction> ins = p.instructions();
        int fused = 0;
        for (int k = 0; k < ins.size(); k++) {
            assertTrue(dot.contains("  i" + k + " [label=\"#" + k + " "), "instruction " + k + " drawn");
            String name = ins.get(k).op().name();
            if (name.startsWith("linear")) {
                fused++;
                assertTrue(dot.contains("#" + k + " " + name + "\\nmatmul + bias"), "matmul + bias kernel " + k + " says what it fuses");
            }
            if (name.startsWith("fused(")) {
                fused++;
                assertTrue(dot.contains("#" + k + " fused kernel\\n" + name.substring(6, name.length() - 1).replace(",", ", ")), "fused kernel " + k + " lists its ops");
            }
            for (Slot s : ins.get(k).inputs()) if (s.storage() == Slot.Storage.VARIABLE) assertTrue(dot.contains("  var" + s.index() + " -> i" + k + ";"), "variable edge into " + k);
        }
        assertTrue(fused > 0, "the training step of Dense+relu layers has fused elementwise kernels:\n" + p.dump());
        assertTrue(dot.contains(fused + " fused kernels"), dot);
        // buffer reuse: every output said to reuse #j's arena overlaps it, and #j's value is read by no instruction after it is overwritten
        int[] reuse = ProgramPlot.reuse(p);
        int reuses = 0;
        for (int k = 0; k < ins.size(); k++) {
            if (reuse[k] < 0) continue;
            reuses++;
            Slot mine = ins.get(k).output(), old = ins.get(reuse[k]).output();
            assertTrue(mine.offset() < old.offset() + old.size() && old.offset() < mine.offset() + mine.size(), "overlap of #" + reuse[k] + " and #" + k);
            assertTrue(dot.contains("reuses arena of #" + reuse[k]), "label of #" + k);
            assertTrue(dot.contains("  i" + reuse[k] + " -> i" + k + " [style=dotted"), "reuse edge into #" + k);
        }
        assertTrue(reuses > 0, "the planner reuses some buffer in a training step:\n" + p.dump());
        // data edges: an arena operand's edge comes from the instruction that last wrote its range
        Matcher e = Pattern.compile("  i(\\d+) -> i(\\d+);").matcher(dot);
        int edges = 0;
        while (e.find()) {
            int j = Integer.parseInt(e.group(1)), k = Integer.parseInt(e.group(2));
            assertTrue(j < k, "edge " + j + " -> " + k + " goes forward");
            edges++;
        }
        assertTrue(edges >= ins.size() / 2, "data edges: " + edges);
    }

    @Test
    void plotWritesDotTextForADotPath(@TempDir Path dir) throws IOException {
        Model m = branched();
        Path f = m.plot(dir.resolve("model.dot"));
        assertEquals(dir.resolve("model.dot"), f);
        assertEquals(m.plotDot(), Files.readString(f));
        assertThrows(IllegalArgumentException.class, () -> m.plot(dir.resolve("model.jpg")));
    }

    @Test
    void plotAndDumpDrawPngAndSvgWithGraphviz(@TempDir Path dir) throws IOException {
        if (Graphviz.dot().isEmpty()) System.out.println("ModelPlotTest: skipped drawing: Graphviz's 'dot' is not on the PATH (apt-get install graphviz)");
        assumeTrue(Graphviz.dot().isPresent(), "Graphviz's 'dot' is not on the PATH (apt-get install graphviz)");
        Model m = branched();
        Path png = m.plot(dir.resolve("model.png"));
        assertEquals(dir.resolve("model.png"), png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "a PNG ImageIO reads");
        assertTrue(img.getWidth() > 100 && img.getHeight() > 200, img.getWidth() + "x" + img.getHeight());
        m.compile(Adam.lr(1e-3), Loss.sparseCategoricalCrossentropy());
        Path svg = m.trainingPlan(4).dump(dir.resolve("program.svg"));
        String text = Files.readString(svg);
        assertTrue(text.contains("<svg") && text.contains("fused kernel") && text.contains("reuses arena of #"), "SVG with the program's labels");
        assertFalse(Files.exists(dir.resolve("program.dot")), "no DOT fallback when dot is installed");
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }
}
