package dev.kiln.compile;

import dev.kiln.graph.Constant;
import dev.kiln.graph.Node;
import dev.kiln.graph.Variable;

import java.util.List;

/**
 * The compiler's output: a flat list of kernel calls over planned buffers. Values live in one
 * arena of {@code arenaSize} floats (offsets chosen by the memory planner, reused once dead),
 * in the program's inputs, in variables, or in constants. Easy to print ({@link #dump()}), diff
 * and test; backends turn it into an {@code Executable}.
 *
 * @param inputs        the graph's Placeholder nodes, in slot order
 * @param outputs       where each returned value can be read after a run
 * @param checkNumerics when set, executables check every instruction's output for NaN/Inf and
 *                      name the first instruction that produced one
 * @param precision     what its products read ({@link AutoCast} already rounded their operands); a GPU
 *                      backend runs them on tensor cores unless it is {@link Precision#F32}
 */
public record Program(List<Instruction> instructions, List<Node> inputs, List<Slot> outputs,
                      List<Variable> variables, List<Constant> constants, int arenaSize,
                      boolean checkNumerics, Precision precision) {
    public Program {
        instructions = List.copyOf(instructions);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        variables = List.copyOf(variables);
        constants = List.copyOf(constants);
        for (Instruction ins : instructions) {
            for (Slot s : ins.inputs()) checkInArena(s, arenaSize, ins);
            if (ins.output() != null) checkInArena(ins.output(), arenaSize, ins);
        }
    }

    private static void checkInArena(Slot s, int arenaSize, Instruction ins) {
        if (s.storage() == Slot.Storage.ARENA && (s.offset() < 0 || s.offset() + s.size() > arenaSize)) {
            throw new IllegalStateException("memory plan error: " + s + " of " + ins.node().describe() + " lies outside the arena of " + arenaSize + " floats");
        }
    }

    /** Index of the input named {@code name}, or an error listing the names. */
    public int inputSlot(String name) {
        for (int i = 0; i < inputs.size(); i++) {
            if (((dev.kiln.graph.Placeholder) inputs.get(i).op()).inputName().equals(name)) return i;
        }
        throw new IllegalArgumentException("program has no input named '" + name + "'; inputs: " + inputNames());
    }

    public List<String> inputNames() {
        return inputs.stream().map(n -> ((dev.kiln.graph.Placeholder) n.op()).inputName()).toList();
    }

    /**
     * Draws the program ({@link ProgramPlot}): its kernels, fused ones with the ops they run, and the
     * memory planner's buffer reuse. PNG or SVG by the path's ending when Graphviz's {@code dot} is
     * installed, DOT text for {@code .dot} or when it is not (then beside the path, with a note).
     * Returns the file written.
     */
    public java.nio.file.Path dump(java.nio.file.Path path) throws java.io.IOException {
        return dev.kiln.io.Graphviz.write(ProgramPlot.dot(this), path);
    }

    /** One line per instruction: output slot, op, input slots, and where the node was made. */
    public String dump() {
        StringBuilder sb = new StringBuilder();
        sb.append("program: ").append(instructions.size()).append(" instructions, arena ")
          .append(arenaSize).append(" floats (").append(arenaSize * 4L / 1024).append(" KiB), ")
          .append(inputs.size()).append(" inputs, ").append(variables.size()).append(" variables\n");
        for (int i = 0; i < inputs.size(); i++) sb.append("  in").append(i).append(" = ").append(((dev.kiln.graph.Placeholder) inputs.get(i).op()).inputName()).append(inputs.get(i).shape()).append('\n');
        for (int i = 0; i < variables.size(); i++) sb.append("  var").append(i).append(" = ").append(variables.get(i).name()).append(variables.get(i).shape()).append('\n');
        int k = 0;
        for (Instruction ins : instructions) {
            sb.append(String.format("%4d  ", k++));
            sb.append(ins.output() == null ? "(in place)" : ins.output().toString()).append(" = ").append(ins.op().name()).append('(');
            for (int i = 0; i < ins.inputs().size(); i++) { if (i > 0) sb.append(", "); sb.append(ins.inputs().get(i)); }
            sb.append(')');
            if (ins.node().label() != null) sb.append("  # ").append(ins.node().label());
            sb.append('\n');
        }
        for (int i = 0; i < outputs.size(); i++) sb.append("  out").append(i).append(" = ").append(outputs.get(i)).append('\n');
        return sb.toString();
    }
}
