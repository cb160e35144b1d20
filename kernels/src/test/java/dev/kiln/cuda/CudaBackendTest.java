package dev.kiln.cuda;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;
import dev.kiln.cuda.ffi.CudaApis;
import dev.kiln.cuda.ffi.NativeDriver;
import dev.kiln.cuda.ffi.SharedLibrary;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CudaBackendTest {

    private static boolean driverLoads() {
        try (Arena arena = Arena.ofConfined()) {
            return SharedLibrary.find(CudaApis.DRIVER_SONAMES, arena).library().isPresent();
        }
    }

    @Test
    void isRegisteredAsAServiceAbovePriorityOfTheCpuBackend() {
        Backend cuda = null;
        for (Backend b : Backend.all()) if (b.name().equals("cuda")) cuda = b;
        assertTrue(cuda instanceof CudaBackend, "META-INF/services must register dev.kiln.cuda.CudaBackend");
        assertEquals(100, cuda.priority());
    }

    @Test
    void withoutTheNvidiaDriverIsUnusableAndSaysLibcudaIsMissing() {
        assumeFalse(driverLoads(), "libcuda.so.1 loads on this machine; the GPU-present test covers it");
        Availability a = new CudaBackend().availability();
        assertFalse(a.usable());
        assertFalse(a.present(), "no driver: absent, passed over quietly");
        assertTrue(a.summary().contains("libcuda.so.1 not found"), a.summary());
        assertTrue(a.checks().getFirst().startsWith("libcuda.so.1 not found: no NVIDIA driver"), a.checks().toString());
    }

    @Test
    void withTheNvidiaDriverIsStillUnusableBecauseKernelsAreMissing() {
        assumeTrue(driverLoads(), "no libcuda.so.1 here; the driver-absent test covers this machine");
        Availability a = new CudaBackend().availability();
        assertFalse(a.usable());
        assertTrue(a.checks().stream().anyMatch(c -> c.startsWith("cuDriverGetVersion")), a.checks().toString());
        // with a device, passing CUDA over is a warning users see (Backend.auto), not a DEBUG line
        // (a driver that loads but finds no device keeps it absent)
        if (a.summary().startsWith(CudaBackend.NOT_IMPLEMENTED)) assertTrue(a.present(), a.summary());
    }

    @Test
    void reportsOneCheckPerLibraryAndTheMissingKernelsEverywhere() {
        Availability a = new CudaBackend().availability();
        for (String lib : new String[] {"cuBLAS: ", "cuBLASLt: ", "cuDNN: ", "NVRTC: "}) {
            assertEquals(1, a.checks().stream().filter(c -> c.startsWith(lib)).count(), lib + " in " + a.checks());
        }
        assertTrue(a.checks().contains("kernels: " + CudaBackend.NOT_IMPLEMENTED), a.checks().toString());
    }

    @Test
    void withoutAGpuCompileRefusesNamingWhatIsMissingAndTheCpuBackend() {
        assumeFalse(driverLoads(), "libcuda.so.1 loads on this machine: compile opens the GPU there");
        CudaBackend cuda = new CudaBackend();
        var e = assertThrows(UnsupportedOperationException.class, () -> cuda.compile(null));
        assertTrue(e.getMessage().contains("libcuda.so.1 not found"), e.getMessage());
        assertTrue(e.getMessage().contains("use the CPU backend"), e.getMessage());
    }

    @Test
    void eagerEvaluationRefusesNamingTheCpuBackend() {
        var e = assertThrows(UnsupportedOperationException.class, () -> new CudaBackend().evaluate(null, new float[0][], new float[0]));
        assertTrue(e.getMessage().contains("use the CPU backend"), e.getMessage());
    }

    @Test
    void anInstalledButBrokenDriverIsPresentSoItsProblemIsAWarningWhileNoDriverOrNoDeviceStaysQuiet() {
        List<String> checks = List.of("a check line");
        for (String broken : new String[] {"libcuda.so.1 does not load", "cuInit failed", "the NVIDIA driver is too old"}) {
            Availability a = CudaBackend.availability(Optional.of(broken), checks);
            assertFalse(a.usable(), broken);
            assertTrue(a.present(), broken + ": present, so Backend.auto() says it once as a WARNING");
            assertTrue(a.summary().startsWith(broken), a.summary());
        }
        for (String absent : new String[] {CudaBackend.NO_DRIVER, CudaBackend.NO_DEVICE}) {
            Availability a = CudaBackend.availability(Optional.of(absent), checks);
            assertFalse(a.usable() || a.present(), absent + ": absent, passed over at DEBUG");
        }
        Availability working = CudaBackend.availability(Optional.empty(), checks);
        assertTrue(working.present() && !working.usable(), "a working driver and device: present, not used yet");
        assertEquals(checks, working.checks());
    }
}
