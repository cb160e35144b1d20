package dev.kiln.cuda;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parity suite's launcher counts and names what passed, failed and was skipped (on sample cases, not Kiln's). */
class ParitySuiteTest {
    @Test
    void eachOutcomeIsCountedAndNamedWithItsReason() {
        ParitySuite.Outcome o = ParitySuite.run("dev.kiln.cuda.paritysample");
        assertEquals(List.of("SampleCases.passes()"), o.passed());
        assertEquals(1, o.failed().size(), o.failed().toString());
        assertTrue(o.failed().getFirst().startsWith("SampleCases.fails(): FAILED: AssertionFailedError: two and two"), o.failed().getFirst());
        assertEquals(List.of("SampleCases.skips(): skipped: Assumption failed: no device in this sample"), o.skipped());
        assertEquals("1 passed, 1 failed, 1 skipped", o.summary());
    }

    @Test
    void theGpuRunLeavesOutTheBuildMachinesChecksAndTheSamples() {
        List<String> excluded = List.of(ParitySuite.EXCLUDED);
        for (String cls : List.of("dev.kiln.cuda.ffi.CudaHeaderTest", "dev.kiln.cuda.emu.PtxEmulatorTest", "dev.kiln.cuda.paritysample.SampleCases",
                "dev.kiln.cuda.CudaBackendLibraryCheckTest")) {
            assertTrue(excluded.stream().anyMatch(cls::matches), cls);
        }
        for (String cls : List.of("dev.kiln.cuda.TrainingKernelsTest", "dev.kiln.cuda.ElementwiseKernelsTest")) {
            assertTrue(excluded.stream().noneMatch(cls::matches), cls);
        }
    }
}
