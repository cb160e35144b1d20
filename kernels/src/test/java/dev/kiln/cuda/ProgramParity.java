package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Program;
import dev.kiln.cpu.CpuBackend;
import dev.kiln.cuda.emu.EmulatedCuda;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.fail;

/** Runs one program on the CPU backend and on the emulated CUDA device with the same inputs and compares every output. */
final class ProgramParity {
    private ProgramParity() {}

    /** Outputs of {@code program} on the CPU backend and on {@code cuda}: [backend][output][element]. */
    static float[][][] run(Program program, EmulatedCuda cuda, Map<String, float[]> feeds) {
        float[][][] out = new float[2][][];
        Executable[] exes = {new CpuBackend().compile(program), cuda.backend.compile(program)};
        for (int b = 0; b < 2; b++) {
            try (Executable e = exes[b]) {
                for (Map.Entry<String, float[]> f : feeds.entrySet()) e.setInput(program.inputSlot(f.getKey()), f.getValue());
                e.run();
                out[b] = new float[program.outputs().size()][];
                for (int o = 0; o < out[b].length; o++) {
                    out[b][o] = new float[program.outputs().get(o).size()];
                    e.readOutput(o, out[b][o]);
                }
            }
        }
        return out;
    }

    /**
     * |cuda - cpu| <= rel·|cpu| + abs for every element; NaN matches NaN and infinities match exactly.
     * Returns the largest relative difference seen (over elements with |cpu| >= 1e-3).
     */
    static double assertClose(String what, float[] cpu, float[] cuda, double rel, double abs) {
        if (cpu.length != cuda.length) fail(what + ": " + cpu.length + " CPU values, " + cuda.length + " CUDA values");
        double worst = 0;
        for (int i = 0; i < cpu.length; i++) {
            float e = cpu[i], a = cuda[i];
            if (Float.isNaN(e) || Float.isInfinite(e)) {
                if (Float.compare(e, a) != 0) fail(what + "[" + i + "]: CPU " + e + ", CUDA " + a);
                continue;
            }
            double d = Math.abs((double) a - e);
            if (!(d <= rel * Math.abs(e) + abs)) {
                fail(what + "[" + i + "]: CPU " + e + ", CUDA " + a + " (difference " + d + " > " + rel + "·|cpu| + " + abs + ")");
            }
            if (Math.abs(e) >= 1e-3) worst = Math.max(worst, d / Math.abs(e));
        }
        return worst;
    }
}
