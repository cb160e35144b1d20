package dev.kiln.nn;

import dev.kiln.graph.Variable;
import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Renders {@link Model#summary()} (Keras 3's table) and computes receptive fields. */
final class Summary {
    private Summary() {}

    static String of(Model m) {
        m.build();
        boolean functional = m.inputs().size() > 1 || m.outputs().size() > 1 || hasBranches(m);
        List<String[]> rows = new ArrayList<>();
        for (Symbol s : m.order()) {
            if (s.isInput()) {
                if (functional) rows.add(new String[] {s.inputName() + " (InputLayer)", shape(s.shape()), "0", ""});
                continue;
            }
            long params = 0;
            for (Variable v : s.layer().weights()) params += v.shape().size();
            StringBuilder parents = new StringBuilder();
            for (Symbol p : s.parents()) { if (parents.length() > 0) parents.append(", "); parents.append(p.isInput() ? p.inputName() : p.layer().name()); }
            rows.add(new String[] {s.layer().name() + " (" + s.layer().type() + ")", shape(s.shape()), String.format(Locale.ROOT, "%,d", params), parents.toString()});
        }
        int[] width = {28, 24, 13, 22};
        for (String[] r : rows) for (int i = 0; i < 4; i++) width[i] = Math.max(width[i], r[i].length());
        int cols = functional ? 4 : 3;
        String[] head = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
        StringBuilder sb = new StringBuilder();
        sb.append("Model: \"").append(m.name()).append("\"\n");
        sb.append(rule('┏', '┳', '┓', '━', width, cols));
        sb.append(row('┃', head, width, cols));
        sb.append(rule('┡', '╇', '┩', '━', width, cols));
        for (int i = 0; i < rows.size(); i++) {
            sb.append(row('│', rows.get(i), width, cols));
            if (i < rows.size() - 1 && functional) sb.append(rule('├', '┼', '┤', '─', width, cols));
        }
        sb.append(rule('└', '┴', '┘', '─', width, cols));
        long[] counts = m.parameterCounts();
        sb.append(" Total params: ").append(count(counts[0])).append('\n');
        sb.append(" Trainable params: ").append(count(counts[1])).append('\n');
        sb.append(" Non-trainable params: ").append(count(counts[0] - counts[1])).append('\n');
        return sb.toString();
    }

    private static boolean hasBranches(Model m) {
        for (Symbol s : m.order()) if (s.parents().size() > 1) return true;
        return false;
    }

    static String shape(Shape s) {
        StringBuilder sb = new StringBuilder("(None");
        for (int i = 0; i < s.rank(); i++) sb.append(", ").append(s.dim(i));
        return sb.append(')').toString();
    }

    private static String count(long n) {
        double bytes = n * 4.0;
        String size = bytes >= 1 << 20 ? String.format(Locale.ROOT, "%.2f MB", bytes / (1 << 20))
                : bytes >= 1 << 10 ? String.format(Locale.ROOT, "%.2f KB", bytes / (1 << 10)) : String.format(Locale.ROOT, "%.2f B", bytes);
        return String.format(Locale.ROOT, "%,d (%s)", n, size);
    }

    private static String rule(char l, char mid, char r, char fill, int[] w, int cols) {
        StringBuilder sb = new StringBuilder().append(l);
        for (int i = 0; i < cols; i++) {
            sb.append(String.valueOf(fill).repeat(w[i] + 2));
            sb.append(i < cols - 1 ? mid : r);
        }
        return sb.append('\n').toString();
    }

    private static String row(char bar, String[] cells, int[] w, int cols) {
        StringBuilder sb = new StringBuilder().append(bar);
        for (int i = 0; i < cols; i++) {
            String c = cells[i];
            String pad = " ".repeat(w[i] - c.length());
            sb.append(' ').append(i == 2 ? pad + c : c + pad).append(' ').append(bar);
        }
        return sb.append('\n').toString();
    }

    /**
     * Receptive fields along the first-parent path: a k×k window of dilation d adds (k-1)·d·jump
     * to the field, and its stride multiplies the jump (Araujo et al., Distill 2019).
     */
    static List<ReceptiveField> receptiveFields(Model m) {
        List<ReceptiveField> out = new ArrayList<>();
        Symbol s = m.outputs().get(0);
        List<Symbol> path = new ArrayList<>();
        while (!s.isInput()) { path.add(0, s); s = s.parents().get(0); }
        int rh = 1, rw = 1, jh = 1, jw = 1;
        for (Symbol p : path) {
            Layer l = p.layer();
            if (l instanceof Conv2D c) {
                rh += (c.kernelH() - 1) * c.dilation() * jh;
                rw += (c.kernelW() - 1) * c.dilation() * jw;
                jh *= c.strideH();
                jw *= c.strideW();
            } else if (l instanceof Pooling2D pool) {
                rh += (pool.op().windowH() - 1) * jh;
                rw += (pool.op().windowW() - 1) * jw;
                jh *= pool.op().strideH();
                jw *= pool.op().strideW();
            } else {
                continue;
            }
            out.add(new ReceptiveField(l.name(), l.type(), rh, rw, jh, jw));
        }
        return out;
    }
}
