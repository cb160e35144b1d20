package dev.kiln.cli;

import dev.kiln.backend.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorTest {

    private static String run(Path cpuinfo, boolean[] found) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        found[0] = Doctor.report(new PrintStream(bytes, true, StandardCharsets.UTF_8), cpuinfo);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void reportsCpuModelAndEachFlagOfInterestFromCpuinfo(@TempDir Path dir) throws IOException {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, """
                processor\t: 0
                model name\t: Test CPU 9000
                flags\t\t: fpu sse2 avx avx2 fma avx512bw
                
                processor\t: 1
                model name\t: Other CPU
                """);
        String out = run(cpuinfo, new boolean[1]);
        assertTrue(out.contains("cpu      Test CPU 9000"), out);
        assertTrue(out.contains("flags    avx2 yes, avx512f no, avx512bw yes, fma yes"), out);
    }

    @Test
    void saysWhyWhenCpuinfoIsMissing(@TempDir Path dir) {
        String out = run(dir.resolve("absent"), new boolean[1]);
        assertTrue(out.contains("cpu      unknown: cannot read"), out);
    }

    @Test
    void listsEveryBackendWithItsChecksAndTheVectorSpecies(@TempDir Path dir) {
        boolean[] found = new boolean[1];
        String out = run(dir.resolve("absent"), found);
        for (Backend b : Backend.all()) {
            assertTrue(out.contains("  " + b.name() + " (priority " + b.priority() + "): "), out);
            for (String check : b.availability().checks()) assertTrue(out.contains("      " + check), check + " missing in\n" + out);
        }
        assertTrue(out.contains("cuda (priority 100): not usable"), out);
        // Surefire starts the JVM with --add-modules jdk.incubator.vector (kiln.jvmArgs in the parent pom).
        assertTrue(out.contains("FloatVector.SPECIES_PREFERRED = "), out);
        boolean anyUsable = Backend.all().stream().anyMatch(b -> b.availability().usable());
        assertEquals(anyUsable, found[0], "report() must succeed exactly when some backend is usable\n" + out);
        assertTrue(out.contains(anyUsable ? "Backend.auto() picks: " : "Backend.auto() picks nothing: "), out);
    }
}
