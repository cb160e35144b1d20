package dev.kiln.architecture;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A user imports the engine's packages together ({@code import dev.kiln.nn.*; import dev.kiln.graph.*;}), so no two
 * of them may hold a public top-level type of the same simple name: {@code Input} in both nn and graph made every
 * use of either ambiguous. A failure names each clashing name and its packages.
 */
class PublicNameCollisionTest {
    private static final Path SOURCES = Path.of("src/main/java");
    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "^public\\s+(?:(?:abstract|final|sealed|non-sealed|strictfp|static)\\s+)*(?:class|interface|record|enum|@interface)\\s+(\\w+)",
            Pattern.MULTILINE);

    /** Simple name -> the packages that declare a public top-level type of that name. */
    static Map<String, TreeSet<String>> publicTypes(Path root) throws IOException {
        Map<String, TreeSet<String>> byName = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(p -> p.toString().endsWith(".java") && !p.getFileName().toString().equals("package-info.java")).toList();
        }
        for (Path f : files) {
            var m = PUBLIC_TYPE.matcher(PackageCycleTest.code(Files.readString(f)));
            if (!m.find()) continue;
            String pkg = root.relativize(f.getParent()).toString().replace('/', '.');
            byName.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(pkg);
        }
        return byName;
    }

    static List<String> collisions(Map<String, TreeSet<String>> byName) {
        List<String> out = new ArrayList<>();
        for (var e : byName.entrySet()) if (e.getValue().size() > 1) out.add(e.getKey() + " in " + e.getValue());
        return out;
    }

    @Test
    void noTwoEnginePackagesDeclareTheSamePublicName() throws IOException {
        Map<String, TreeSet<String>> byName = publicTypes(SOURCES);
        // The scan sees the packages a user imports (a scan that finds nothing would pass vacuously).
        for (String expected : List.of("Model", "Dense", "Ops", "Placeholder", "Trainer", "Dataset", "Loss", "Metric", "Adam", "Tensor")) {
            assertTrue(byName.containsKey(expected), "the scan of " + SOURCES + " found no public type " + expected);
        }
        List<String> clashes = collisions(byName);
        assertTrue(clashes.isEmpty(), "public type names declared in two packages (ambiguous under import pkg.*; rename one): " + clashes);
    }

    @Test
    void aClashIsReported(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        for (String pkg : List.of("a", "b")) {
            Files.createDirectories(dir.resolve(pkg));
            Files.writeString(dir.resolve(pkg).resolve("Input.java"), "package " + pkg + ";\n/** x */\npublic record Input(int n) {}\n");
        }
        Files.writeString(dir.resolve("b").resolve("Other.java"), "package b;\nfinal class Input2 {}\npublic final class Other {}\n");
        assertEquals(List.of("Input in [a, b]"), collisions(publicTypes(dir)));
    }
}
