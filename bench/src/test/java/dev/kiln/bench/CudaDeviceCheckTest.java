package dev.kiln.bench;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gate of `./kiln bench --device cuda`: one line without a device, nothing with one (usable or not yet). */
class CudaDeviceCheckTest {
    @Test
    void withoutADeviceOneLineSaysWhyAndHowToRunItOnAGpu() {
        Optional<String> p = CudaDeviceCheck.problem(Optional.of(Availability.unavailable("libcuda.so.1 not found (no NVIDIA driver)", List.of())));
        assertTrue(p.isPresent());
        String line = p.get();
        assertFalse(line.contains("\n"), line);
        assertTrue(line.startsWith("kiln bench --device cuda: no CUDA device on this machine (libcuda.so.1 not found"), line);
        assertTrue(line.contains("./kiln gpu-pack") && line.contains("bench/README.md"), line);
        assertTrue(CudaDeviceCheck.problem(Optional.empty()).orElseThrow().contains("kiln-cuda is not on the class path"));
    }

    @Test
    void aPresentDeviceRunsEvenBeforeTheBackendCallsItselfUsable() {
        assertEquals(Optional.empty(), CudaDeviceCheck.problem(Optional.of(Availability.presentButUnusable("not verified", List.of()))));
        assertEquals(Optional.empty(), CudaDeviceCheck.problem(Optional.of(Availability.usable("ok", List.of()))));
    }

    @Test
    void thisMachinesAnswerMatchesTheCudaBackendsOwn() {
        Availability a = Backend.all().stream().filter(b -> b.name().equals("cuda")).findFirst().orElseThrow().availability();
        assertEquals(!a.present(), CudaDeviceCheck.problem(Optional.of(a)).isPresent(), a.summary());
    }
}
