package dev.kiln.examples;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Program;
import dev.kiln.cpu.CpuBackend;
import dev.kiln.optim.OptimizerFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The RMSprop and gradient-clipping fixtures (torch.optim.RMSprop, torch.nn.utils.clip_grad_*_,
 * three steps) replayed as a compiled program on the CPU backend: the update composed of
 * elementwise ops and assign effects must survive fusion and memory planning with PyTorch's numbers.
 */
class RMSpropOnCpuMatchesPyTorchTest {
    // Tolerance: float32 kernels against float64-then-rounded PyTorch values; three steps of
    // g / (sqrt(s) + eps) accumulate a few float32 roundings (~1e-7 each), hence 2e-5 relative with
    // a 1e-6 absolute floor for slot entries near zero.
    private static final double REL = 2e-5, ABS = 1e-6;

    @ParameterizedTest
    @ValueSource(strings = {"optim_rmsprop", "optim_rmsprop_centered_momentum", "optim_rmsprop_clip_norm", "optim_rmsprop_clip_value"})
    void threeCompiledStepsMatchPyTorch(String name) {
        OptimizerFixtures.Replay replay = OptimizerFixtures.rmspropReplay(name);
        Program program = Compiler.compile(replay.graph(), Compiler.Options.defaults().withInputs(replay.inputs()));
        try (Executable step = new CpuBackend().compile(program)) {
            for (int t = 1; t <= replay.steps(); t++) {
                int n = replay.params().size();
                for (int k = 0; k < n; k++) step.setInput(k, replay.gradient(k, t));
                step.setInput(n, new float[] {(float) replay.learningRate()});
                step.run();
                step.syncVariables();
                replay.assertStep(t, v -> v.value().clone(), REL, ABS);
            }
        }
    }
}
