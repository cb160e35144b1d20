package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.compile.BatchNormGradOfCentered;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Pass;
import dev.kiln.compile.Program;
import dev.kiln.compile.Slot;
import dev.kiln.graph.BatchNormGrad;
import dev.kiln.testing.BatchNormStep;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * On CUDA's pipeline, batch_norm_grad_of_centered hands kiln_batchnorm_backward_f32 x - mean (the graph's sub kernel)
 * and a zero mean instead of x and the mean: the kernel's own x - mean is the same float subtraction, so a Conv-BN-ReLU
 * step's loss and gradients come out bit for bit as without the pass, on the emulated device.
 */
class BatchNormGradOfCenteredOnEmulatedDeviceTest extends OnEmulatedDevice {
    @Test
    void theStepGivesTheSameBitsWithAndWithoutThePass() {
        BatchNormStep s = BatchNormStep.convBnRelu(true, 3, 5, 6);
        Compiler.Options opts = Compiler.Options.defaults().withInputs(s.inputs());
        List<Pass> without = Compiler.fusedPasses().stream().filter(p -> !(p instanceof BatchNormGradOfCentered)).toList();
        Program centred = Compiler.compile(s.graph(), opts.withPasses(Compiler.fusedPasses()));
        Program plain = Compiler.compile(s.graph(), opts.withPasses(without));
        assertEquals(Slot.Storage.CONSTANT, gradientMean(centred), "with the pass the gradient's mean is the zero constant");
        assertEquals(Slot.Storage.ARENA, gradientMean(plain), "without it, the graph's mean");
        float[][] feeds = s.feeds(5);
        List<float[]> a = run(centred, feeds), b = run(plain, feeds);
        for (int o = 0; o < a.size(); o++) assertArrayEquals(b.get(o), a.get(o), "output " + o);
    }

    private static Slot.Storage gradientMean(Program p) {
        return p.instructions().stream().filter(i -> i.op() instanceof BatchNormGrad).findFirst().orElseThrow().inputs().get(2).storage();
    }

    private List<float[]> run(Program p, float[][] feeds) {
        List<float[]> outs = new ArrayList<>();
        try (Executable e = cuda.backend.compile(p)) {
            for (int i = 0; i < feeds.length; i++) e.setInput(i, feeds[i]);
            e.run();
            for (int o = 0; o < p.outputs().size(); o++) {
                float[] out = new float[p.outputs().get(o).shape().size()];
                e.readOutput(o, out);
                outs.add(out);
            }
        }
        return outs;
    }
}
