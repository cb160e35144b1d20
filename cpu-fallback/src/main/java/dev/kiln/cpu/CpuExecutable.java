package dev.kiln.cpu;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Instruction;
import dev.kiln.compile.Program;
import dev.kiln.compile.Slot;
import dev.kiln.graph.Constant;

/**
 * A program bound to CPU memory: one arena array for every intermediate, one array per input,
 * variables read and written in place, and a pre-bound {@link Step} per instruction.
 * {@link #run()} only calls the steps: no allocation.
 */
final class CpuExecutable implements Executable {
    private final Program program;
    private final float[] arena;
    private final float[][] inputs;
    final Step[] steps;
    final Instruction[] instructions;
    private final Buf[] outputs;
    private final Buf[] checked;
    private final ConvWorkspace convWorkspace;

    CpuExecutable(Program program, CpuLowering lowering) {
        this.program = program;
        this.arena = new float[Math.max(program.arenaSize(), 1)];
        this.inputs = new float[program.inputs().size()][];
        for (int i = 0; i < inputs.length; i++) inputs[i] = new float[program.inputs().get(i).shape().size()];
        int count = program.instructions().size();
        this.steps = new Step[count];
        this.instructions = program.instructions().toArray(Instruction[]::new);
        this.checked = new Buf[count];
        for (int s = 0; s < count; s++) {
            Instruction ins = instructions[s];
            Buf[] in = new Buf[ins.inputs().size()];
            for (int i = 0; i < in.length; i++) in[i] = resolve(ins.inputs().get(i));
            Buf out = ins.output() == null ? null : resolve(ins.output());
            steps[s] = lowering.lower(ins.node(), in, out);
            checked[s] = out;
        }
        this.convWorkspace = lowering.convWorkspace();
        this.outputs = new Buf[program.outputs().size()];
        for (int i = 0; i < outputs.length; i++) outputs[i] = resolve(program.outputs().get(i));
    }

    private Buf resolve(Slot slot) {
        return switch (slot.storage()) {
            case ARENA -> new Buf(arena, slot.offset());
            case INPUT -> new Buf(inputs[slot.index()], slot.offset());
            case VARIABLE -> new Buf(program.variables().get(slot.index()).value(), slot.offset());
            case CONSTANT -> {
                Constant c = program.constants().get(slot.index());
                yield new Buf(c.data(), slot.offset());
            }
        };
    }

    @Override public Program program() { return program; }

    /**
     * The program's convolution workspace (padded inputs, packed filters, partial filter gradients), 4 bytes a
     * float. Not counted: the per-thread GEMM pack buffers and Winograd block buffers, which are shared across
     * programs, and the small per-step plans and views.
     */
    @Override public long workspaceBytes() { return 4L * convWorkspace.size(); }

    @Override public void setInput(int slot, float[] data) { setInput(slot, data, 0, data.length); }

    @Override public void setInput(int slot, float[] src, int offset, int count) {
        float[] dst = inputs[slot];
        if (count != dst.length) {
            throw new IllegalArgumentException("input " + program.inputNames().get(slot) + " takes " + dst.length
                    + " values (shape " + program.inputs().get(slot).shape() + "), got " + count);
        }
        System.arraycopy(src, offset, dst, 0, count);
    }

    @Override public void run() {
        if (program.checkNumerics()) { runChecked(); return; }
        for (Step s : steps) s.run();
    }

    private void runChecked() {
        for (int s = 0; s < steps.length; s++) {
            steps[s].run();
            Buf out = checked[s];
            if (out == null) continue;
            int n = instructions[s].output().size();
            float[] a = out.array();
            for (int i = out.offset(), end = out.offset() + n; i < end; i++) {
                if (!Float.isFinite(a[i])) {
                    throw new ArithmeticException("non-finite value " + a[i] + " at element " + (i - out.offset()) + " of the output of instruction "
                            + s + ": " + instructions[s].node().describe() + " — the first op to produce NaN/Inf in this run");
                }
            }
        }
    }

    @Override public void readOutput(int slot, float[] dst, int offset) {
        Slot s = program.outputs().get(slot);
        Buf b = outputs[slot];
        System.arraycopy(b.array(), b.offset(), dst, offset, s.size());
    }

    @Override public float outputScalar(int slot) {
        Buf b = outputs[slot];
        return b.array()[b.offset()];
    }
}
