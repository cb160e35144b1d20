package dev.kiln.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's AOT cache (./kiln makes it with -XX:AOTCacheOutput from FirstStep's M1 steps) must not change
 * results: five M1 training steps in a JVM started from the cache give bit for bit the losses of a JVM started
 * without it. The cache is made here as the launcher makes it, from jars of this build's classes.
 */
class AotCacheTest {
    private static final List<String> JVM = List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-Dkiln.threads=2");

    @Test
    void trainingFromTheAotCacheGivesTheSameLossesBitForBit(@TempDir Path dir) throws Exception {
        String cp = jarredClassPath(dir);
        Path cache = dir.resolve("kiln.aot");
        run(dir, "training", cp, List.of("-XX:AOTCacheOutput=" + cache), List.of("--steps", "3"));
        assertTrue(Files.size(cache) > 0, "the training run wrote no AOT cache at " + cache);

        // AOTMode=on: the JVM fails instead of starting without the cache, so this run really uses it
        Path loads = dir.resolve("class-load.txt");
        List<String> cached = run(dir, "with the cache", cp,
                List.of("-XX:AOTCache=" + cache, "-XX:AOTMode=on", "-Xlog:class+load=info:file=" + loads), List.of("--steps", "5", "--print-loss"));
        assertTrue(Files.readString(loads).contains("dev.kiln.nn.Model source: shared objects file"),
                "the run with -XX:AOTCache loaded dev.kiln.nn.Model from its jar, not from the cache");
        List<String> plain = run(dir, "without the cache", cp, List.of(), List.of("--steps", "5", "--print-loss"));

        assertEquals(5, losses(plain).size(), "the run without the cache printed " + plain);
        for (String l : losses(plain)) {
            float v = Float.intBitsToFloat(Integer.parseUnsignedInt(l.split(" ")[2], 16));
            assertTrue(Float.isFinite(v) && v > 0, "M1's MAE loss should be positive and finite: " + l);
        }
        assertEquals(losses(plain), losses(cached));
    }

    private static List<String> losses(List<String> out) {
        List<String> l = new ArrayList<>();
        for (String s : out) if (s.startsWith("loss ")) l.add(s);
        return l;
    }

    /** This test's class path with every class folder of the build replaced by a jar of it (an AOT cache takes jars only). */
    private static String jarredClassPath(Path dir) throws IOException {
        String full = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> out = new ArrayList<>();
        for (String e : full.split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (e.isBlank() || e.contains("test-classes") || e.endsWith("-tests.jar") || e.contains("junit") || e.contains("opentest4j")
                    || e.contains("apiguardian") || e.contains("surefire")) continue;
            if (Files.isDirectory(p)) {
                Path jar = dir.resolve(p.getParent().getParent().getFileName() + ".jar");
                jar(p, jar);
                out.add(jar.toString());
            } else if (e.endsWith(".jar")) {
                out.add(e);
            }
        }
        return String.join(File.pathSeparator, out);
    }

    private static void jar(Path classes, Path jar) throws IOException {
        try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, j);
                j.closeEntry();
            }
        }
    }

    /** FirstStep in a child JVM; its stdout lines. Fails with the child's output when it exits non-zero. */
    private static List<String> run(Path dir, String what, String cp, List<String> flags, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(JVM);
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", cp, "dev.kiln.bench.FirstStep"));
        cmd.addAll(args);
        Path log = dir.resolve(what.replace(' ', '-') + ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // generous: a training run with the cache assembly takes ~10 s on a loaded 2-core machine
        if (!p.waitFor(300, TimeUnit.SECONDS)) { p.destroyForcibly(); throw new AssertionError("FirstStep " + what + " did not end in 300 s"); }
        List<String> out = Files.readAllLines(log);
        assertEquals(0, p.exitValue(), "FirstStep " + what + " failed: " + String.join("\n", out));
        return out;
    }
}
