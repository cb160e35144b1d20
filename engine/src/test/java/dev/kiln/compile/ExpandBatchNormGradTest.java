package dev.kiln.compile;

import dev.kiln.graph.BatchNormGrad;
import dev.kiln.testing.BatchNormStep;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * expand_batch_norm_grad gives the CPU the program it had before the fused op: the training step of a Conv-BN-ReLU
 * graph whose batch norm is marked fused compiles, under the default passes, to the same instructions over the same
 * slots as the composed graph's; only the fused passes keep the one batch_norm_grad instruction.
 */
class ExpandBatchNormGradTest {
    @Test
    void theDefaultPipelineCompilesTheFusedGraphToTheComposedProgram() {
        BatchNormStep fused = BatchNormStep.convBnRelu(true, 2, 5, 4), composed = BatchNormStep.convBnRelu(false, 2, 5, 4);
        Program a = Compiler.compile(fused.graph(), Compiler.Options.defaults().withInputs(fused.inputs()));
        Program b = Compiler.compile(composed.graph(), Compiler.Options.defaults().withInputs(composed.inputs()));
        assertEquals(b.dump(), a.dump());
        assertTrue(a.instructions().stream().noneMatch(i -> i.op() instanceof BatchNormGrad));
    }

    @Test
    void theFusedPipelineKeepsOneBatchNormGradInstruction() {
        BatchNormStep fused = BatchNormStep.convBnRelu(true, 2, 5, 4);
        Compiler.Options opts = Compiler.Options.defaults().withInputs(fused.inputs());
        Program kept = Compiler.compile(fused.graph(), opts.withPasses(Compiler.fusedPasses()));
        Program expanded = Compiler.compile(fused.graph(), opts);
        assertEquals(1, kept.instructions().stream().filter(i -> i.op() instanceof BatchNormGrad).count());
        assertNotEquals(expanded.instructions().size(), kept.instructions().size());
        assertTrue(kept.instructions().size() < expanded.instructions().size(),
                kept.instructions().size() + " instructions fused, " + expanded.instructions().size() + " expanded");
    }

    @Test
    void itIsTheFirstDefaultPassAndTheFusedListIsTheRest() {
        assertEquals("expand_batch_norm_grad", Compiler.defaultPasses().getFirst().name());
        assertEquals(Compiler.fusedPasses().size() + 1, Compiler.defaultPasses().size());
        assertTrue(Compiler.fusedPasses().stream().noneMatch(p -> p instanceof ExpandBatchNormGrad));
    }
}
