package dev.kiln.cuda;

import dev.kiln.cuda.emu.Nvcc;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CUDA C sources compile offline with nvcc, and the build put their PTX in the jar, so a syntax error cannot wait for a GPU run. */
class KernelSourcesPtxTest {

    @Test
    void everySourceCompilesToPtxWithEveryEntryPoint() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        for (KernelSource source : KernelSource.ALL) {
            String ptx = Nvcc.ptx(source.resource(), source.text());
            // extern "C" keeps the name unmangled; a kernel is declared as ".visible .entry name(".
            for (String entry : source.entryPoints()) assertTrue(ptx.contains(".entry " + entry + "("), source.resource() + " lacks " + entry);
        }
    }

    @Test
    void theBuildShipsPtxForEverySourceWhenNvccIsPresent() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT + " (the build's PTX step is skipped too)");
        for (KernelSource source : KernelSource.ALL) {
            String ptx = source.prebuiltPtx().orElseThrow(() -> new AssertionError("no prebuilt PTX for " + source.resource()
                    + " in the jar: the generate-resources step (kernels/src/build/compile-ptx.sh) did not run"));
            for (String entry : source.entryPoints()) assertTrue(ptx.contains(".entry " + entry + "("), source.resource() + " PTX lacks " + entry);
        }
    }
}
