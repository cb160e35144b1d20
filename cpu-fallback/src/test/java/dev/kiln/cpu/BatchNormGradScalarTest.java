package dev.kiln.cpu;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Program;
import dev.kiln.graph.BatchNormGrad;
import dev.kiln.testing.BatchNormStep;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU's kernel for the fused batch-norm gradient ({@link BatchNormGradScalar}), met only in programs compiled
 * without expand_batch_norm_grad, against the CPU's composed ops (the default pipeline) on the same Conv-BN-ReLU step.
 * Tolerance {@value #TOLERANCE} of the largest element of each output: the composed ops sum each channel's m rows in
 * float (relative error up to ~m·2^-24 ≈ 1e-5 for m = 98 here, with cancellation in m·dy - Σdy - xhat·Σ(dy·xhat)),
 * the kernel in double; a wrong term would move dx by far more (see BatchNormGradTest).
 */
class BatchNormGradScalarTest {
    static final double TOLERANCE = 1e-4;

    @Test
    void theFusedGradientOnTheCpuMatchesTheComposedOps() {
        for (int[] size : new int[][] {{2, 7, 5}, {1, 1, 3}, {3, 4, 1}}) {
            BatchNormStep step = BatchNormStep.convBnRelu(true, size[0], size[1], size[2]);
            Compiler.Options opts = Compiler.Options.defaults().withInputs(step.inputs());
            Program fused = Compiler.compile(step.graph(), opts.withPasses(Compiler.fusedPasses()));
            Program composed = Compiler.compile(step.graph(), opts);
            assertEquals(1, fused.instructions().stream().filter(i -> i.op() instanceof BatchNormGrad).count());
            float[][] feeds = step.feeds(11);
            float[][] fusedOut = run(fused, feeds), composedOut = run(composed, feeds);
            for (int o = 0; o < composedOut.length; o++) {
                float[] a = fusedOut[o], b = composedOut[o];
                double scale = 0, worst = 0;
                for (int i = 0; i < b.length; i++) {
                    scale = Math.max(scale, Math.abs(b[i]));
                    worst = Math.max(worst, Math.abs(a[i] - b[i]));
                }
                assertTrue(worst <= TOLERANCE * scale + 1e-7, "output " + o + " at " + Arrays.toString(size) + ": differs by " + worst + " (scale " + scale + ")");
            }
        }
    }

    /** Every output of one run: loss, then d loss / d (x, filter, gamma, beta). */
    private static float[][] run(Program p, float[][] feeds) {
        try (Executable e = new CpuBackend().compile(p)) {
            for (int i = 0; i < feeds.length; i++) e.setInput(i, feeds[i]);
            e.run();
            float[][] out = new float[p.outputs().size()][];
            for (int o = 0; o < out.length; o++) {
                out[o] = new float[p.outputs().get(o).size()];
                e.readOutput(o, out[o]);
            }
            return out;
        }
    }
}
