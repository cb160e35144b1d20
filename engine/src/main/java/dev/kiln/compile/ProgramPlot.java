package dev.kiln.compile;

import dev.kiln.graph.Placeholder;
import dev.kiln.io.Graphviz;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link Program#dump(java.nio.file.Path)}'s picture as Graphviz DOT: one box per kernel call, in
 * schedule order ({@code #k}, the op's name, the output's shape and its arena range), fused kernels
 * orange with the ops they run (an elementwise chain, or matmul + bias + activation); inputs, variables and constants as ovals; an edge per
 * operand from the instruction that wrote it. Buffer reuse from the memory planner shows twice: a
 * box whose arena range was written before by an instruction whose value had died says
 * "reuses arena of #j" (bold border), and a dotted grey edge runs from #j to it.
 */
public final class ProgramPlot {
    private ProgramPlot() {}

    /** How the plan reused memory: for each instruction, the earlier instruction whose arena range its output takes over, or -1. */
    public static int[] reuse(Program p) {
        List<Instruction> ins = p.instructions();
        int[] from = new int[ins.size()];
        for (int k = 0; k < ins.size(); k++) {
            from[k] = -1;
            Slot out = ins.get(k).output();
            if (out == null || out.storage() != Slot.Storage.ARENA) continue;
            for (int j = k - 1; j >= 0; j--) {
                Slot o = ins.get(j).output();
                if (o != null && o.storage() == Slot.Storage.ARENA && o.offset() < out.offset() + out.size() && out.offset() < o.offset() + o.size()) {
                    from[k] = j;
                    break;
                }
            }
        }
        return from;
    }

    public static String dot(Program p) {
        List<Instruction> ins = p.instructions();
        int[] reused = reuse(p);
        int fused = 0, reuses = 0;
        for (int k = 0; k < ins.size(); k++) {
            if (fused(ins.get(k).op().name())) fused++;
            if (reused[k] >= 0) reuses++;
        }
        StringBuilder sb = new StringBuilder("digraph program {\n");
        sb.append("  label=").append(Graphviz.quote(String.format(Locale.ROOT, "%d instructions, %d fused kernels, arena %,d floats (%,d KiB), %d outputs written over a dead buffer",
                ins.size(), fused, p.arenaSize(), p.arenaSize() * 4L / 1024, reuses))).append("; labelloc=t; fontname=\"Helvetica\";\n");
        sb.append("  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#e8f1fa\", fontname=\"Helvetica\", fontsize=10];\n");
        sb.append("  edge [color=\"#555555\", arrowsize=0.6];\n");
        for (int i = 0; i < p.inputs().size(); i++) {
            sb.append("  in").append(i).append(" [label=").append(Graphviz.quote("in" + i + " " + ((Placeholder) p.inputs().get(i).op()).inputName()
                    + "\n" + p.inputs().get(i).shape())).append(", shape=oval, fillcolor=\"#fdf1dc\"];\n");
        }
        for (int i = 0; i < p.variables().size(); i++) {
            sb.append("  var").append(i).append(" [label=").append(Graphviz.quote("var" + i + " " + p.variables().get(i).name() + "\n" + p.variables().get(i).shape()))
              .append(", shape=oval, fillcolor=\"#eeeeee\"];\n");
        }
        List<Boolean> constantUsed = new ArrayList<>();
        for (int i = 0; i < p.constants().size(); i++) constantUsed.add(false);
        for (Instruction in : ins) for (Slot s : in.inputs()) if (s.storage() == Slot.Storage.CONSTANT) constantUsed.set(s.index(), true);
        for (Slot s : p.outputs()) if (s.storage() == Slot.Storage.CONSTANT) constantUsed.set(s.index(), true);
        for (int i = 0; i < p.constants().size(); i++) {
            if (constantUsed.get(i)) sb.append("  const").append(i).append(" [label=\"const").append(i).append("\", shape=oval, fontsize=8, fillcolor=\"#ffffff\"];\n");
        }
        for (int k = 0; k < ins.size(); k++) {
            Instruction in = ins.get(k);
            String name = in.op().name();
            StringBuilder label = new StringBuilder("#").append(k).append(' ').append(name.startsWith("fused(") ? "fused kernel" : name);
            if (name.startsWith("fused(")) label.append('\n').append(name.substring(6, name.length() - 1).replace(",", ", "));
            else if (fused(name)) {
                String act = name.replaceFirst("^linear(_ta)?(_tb)?_?", "");
                label.append("\nmatmul + bias").append(act.isEmpty() ? "" : " + " + act).append(" in one kernel");
            }
            if (in.output() == null) {
                label.append("\nupdates in place");
            } else {
                label.append('\n').append(in.output().shape());
                if (in.output().storage() == Slot.Storage.ARENA) label.append('\n').append("arena[").append(in.output().offset()).append("..").append(in.output().offset() + in.output().size()).append(')');
            }
            if (reused[k] >= 0) label.append("\nreuses arena of #").append(reused[k]);
            sb.append("  i").append(k).append(" [label=").append(Graphviz.quote(label.toString()));
            if (fused(name)) sb.append(", fillcolor=\"#fbd9a8\"");
            if (reused[k] >= 0) sb.append(", penwidth=2");
            sb.append("];\n");
            for (Slot s : in.inputs()) sb.append("  ").append(source(ins, k, s)).append(" -> i").append(k).append(";\n");
            if (reused[k] >= 0) sb.append("  i").append(reused[k]).append(" -> i").append(k).append(" [style=dotted, color=\"#999999\", constraint=false, arrowhead=none];\n");
        }
        for (int i = 0; i < p.outputs().size(); i++) {
            sb.append("  out").append(i).append(" [label=\"out").append(i).append("\", shape=plaintext, style=\"\"];\n");
            sb.append("  ").append(source(ins, ins.size(), p.outputs().get(i))).append(" -> out").append(i).append(";\n");
        }
        return sb.append("}\n").toString();
    }

    /** Whether an op is a kernel the compiler made of several: an elementwise chain ({@code fused(...)}) or matmul + bias (+ activation), {@code linear...}. */
    static boolean fused(String opName) { return opName.startsWith("fused(") || opName.startsWith("linear"); }

    /** The node a value comes from: an input, variable or constant, or the last instruction before {@code k} that wrote the arena range holding it. */
    private static String source(List<Instruction> ins, int k, Slot s) {
        return switch (s.storage()) {
            case INPUT -> "in" + s.index();
            case VARIABLE -> "var" + s.index();
            case CONSTANT -> "const" + s.index();
            case ARENA -> {
                for (int j = k - 1; j >= 0; j--) {
                    Slot o = ins.get(j).output();
                    if (o != null && o.storage() == Slot.Storage.ARENA && o.offset() <= s.offset() && s.offset() < o.offset() + o.size()) yield "i" + j;
                }
                throw new IllegalStateException("program error: " + s + " is read by instruction #" + k + " before any instruction writes it");
            }
        };
    }
}
