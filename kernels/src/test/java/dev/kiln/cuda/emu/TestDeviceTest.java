package dev.kiln.cuda.emu;

import dev.kiln.cuda.ffi.NativeDriver;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** -Dkiln.cuda.test=gpu (the parity suite on a GPU machine) never falls back to the emulator. */
class TestDeviceTest {
    @Test
    void requiringAGpuWhereThereIsNoneFailsInsteadOfEmulating() {
        assumeTrue(NativeDriver.load(Arena.global()).isEmpty(), "libcuda.so.1 loads here: the GPU is what the tests use");
        String before = System.getProperty("kiln.cuda.test");
        System.setProperty("kiln.cuda.test", "gpu");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, TestDevice::open);
            assertTrue(e.getMessage().startsWith("-Dkiln.cuda.test=gpu but no GPU"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty("kiln.cuda.test"); else System.setProperty("kiln.cuda.test", before);
        }
    }
}
