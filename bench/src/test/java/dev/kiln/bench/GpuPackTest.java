package dev.kiln.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checks ./kiln gpu-pack makes of its folder (GpuPack), on small stand-in packs. */
class GpuPackTest {
    /** A complete, small pack: run script, a runtime whose release file lists its modules, the jars, the python. */
    static Path pack(Path dir, String modules) throws Exception {
        Files.createDirectories(dir.resolve("runtime/bin"));
        Files.createDirectories(dir.resolve("lib"));
        Files.createDirectories(dir.resolve("python"));
        Files.createDirectories(dir.resolve("parity"));
        Files.writeString(dir.resolve("runtime/bin/java"), "#!/bin/sh\n");
        Files.writeString(dir.resolve("runtime/release"), "JAVA_VERSION=\"25.0.3\"\nMODULES=\"" + modules + "\"\n");
        Files.writeString(dir.resolve("run"), "#!/usr/bin/env bash\n");
        Files.setPosixFilePermissions(dir.resolve("run"), PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String j : new String[] {"kiln-engine-0.1.jar", "kiln-cpu-0.1.jar", "kiln-cuda-0.1.jar", "kiln-bench-0.1.jar", "kiln-examples-classes.jar"}) {
            Files.write(dir.resolve("lib").resolve(j), new byte[1000]);
        }
        Files.writeString(dir.resolve("python/gpu_peer.py"), "");
        Files.writeString(dir.resolve("python/peer_bench.py"), "");
        Files.write(dir.resolve("parity/junit-jupiter-api-5.11.3.jar"), new byte[500]);   // allowed: parity/ is apart from lib/
        return dir;
    }

    @Test
    void aCompletePackUnderTheLimitsPasses(@TempDir Path dir) throws Exception {
        GpuPack.Report r = GpuPack.check(pack(dir, "java.base jdk.incubator.vector java.management"), 10_000_000);
        assertTrue(r.ok(), r.text());
        assertEquals(java.util.List.of("java.base", "jdk.incubator.vector", "java.management"), r.modules());
        assertTrue(r.packBytes() > 5000 && r.packBytes() < 10_000, r.text());
    }

    @Test
    void aPackOverFortyEightMegabytesOrOverTheCarryLimitWithTheRepositoryFails(@TempDir Path dir) throws Exception {
        Path p = pack(dir, "java.base jdk.incubator.vector");
        try (RandomAccessFile f = new RandomAccessFile(p.resolve("runtime/big").toFile(), "rw")) { f.setLength(GpuPack.PACK_LIMIT); }
        GpuPack.Report r = GpuPack.check(p, 0);
        assertFalse(r.ok());
        assertTrue(r.problems().getFirst().contains("over the 48,000,000-byte limit"), r.text());
        Files.delete(p.resolve("runtime/big"));
        try (RandomAccessFile f = new RandomAccessFile(p.resolve("runtime/big").toFile(), "rw")) { f.setLength(40_000_000); }
        GpuPack.Report carried = GpuPack.check(p, 30_000_000);   // 40 MB pack + 30 MB repository > 64 MiB
        assertEquals(1, carried.problems().size(), carried.text());
        assertTrue(carried.problems().getFirst().contains("over the device tool's 67,108,864"), carried.text());
        assertTrue(GpuPack.check(p, 20_000_000).ok());
    }

    @Test
    void theDesktopModuleAMissingVectorModuleTestJarsInLibAndMissingFilesAreProblems(@TempDir Path dir) throws Exception {
        Path p = pack(dir, "java.base java.desktop");
        Files.write(p.resolve("lib/junit-jupiter-api-5.11.3.jar"), new byte[10]);
        Files.write(p.resolve("lib/kiln-cuda-0.1-tests.jar"), new byte[10]);
        Files.delete(p.resolve("lib/kiln-bench-0.1.jar"));
        Files.delete(p.resolve("python/gpu_peer.py"));
        Files.setPosixFilePermissions(p.resolve("run"), PosixFilePermissions.fromString("rw-r--r--"));
        GpuPack.Report r = GpuPack.check(p, 0);
        String all = String.join("\n", r.problems());
        assertTrue(all.contains("python/gpu_peer.py is missing"), all);
        assertTrue(all.contains("run is not executable"), all);
        assertTrue(all.contains("the runtime lacks module jdk.incubator.vector"), all);
        assertTrue(all.contains("the runtime holds module java.desktop"), all);
        assertTrue(all.contains("lib/ has no kiln-bench-*.jar"), all);
        assertTrue(all.contains("lib/junit-jupiter-api-5.11.3.jar is a test jar"), all);
        assertTrue(all.contains("lib/kiln-cuda-0.1-tests.jar is a test jar"), all);
        assertEquals(7, r.problems().size(), all);
    }

    @Test
    void theRepositoryFilesThatTravelAreCountedByGit() {
        Path root = Path.of("").toAbsolutePath();
        while (root != null && !Files.isRegularFile(root.resolve("kiln"))) root = root.getParent();
        assertTrue(root != null, "no ./kiln above " + Path.of("").toAbsolutePath());
        long bytes = GpuPack.repoBytes(root);
        // At least the launcher and the root pom travel; build outputs (target/) are ignored and do not.
        assertTrue(bytes > 0, "repository bytes: " + bytes);
        assertTrue(bytes < GpuPack.CARRY_LIMIT, "the repository alone is over the carry limit: " + bytes);
    }
}
