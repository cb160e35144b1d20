package dev.kiln.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table in the {@code ./kiln} launcher names classes that exist and can be run. */
class LauncherTableTest {
    @Test
    void everyExampleNameMapsToARunnableClass() throws Exception {
        Map<String, String> all = table(), table = new LinkedHashMap<>(), spark = new LinkedHashMap<>();
        // the spark-* examples live in the spark module (Spark is not on this module's class path): their sources must exist
        all.forEach((k, v) -> (k.startsWith("spark-") ? spark : table).put(k, v));
        assertEquals(List.of("spark-score", "spark-train", "spark-bench"), List.copyOf(spark.keySet()));
        for (String cls : spark.values()) {
            assertTrue(Files.isRegularFile(root().resolve("spark/src/main/java/dev/kiln/spark/examples/" + cls + ".java")), cls + " is not in the spark module");
        }
        assertEquals(List.of("linear", "deep", "regression", "lr-batch", "early-stopping", "dropout-bn", "convnet", "transfer", "mixed-precision", "serve", "fashion-subset"),
                List.copyOf(table.keySet()));
        // TransferLearning is another lesson's class; its name must map even where it is not yet merged.
        assertEquals("TransferLearning", table.get("transfer"));
        for (Map.Entry<String, String> e : table.entrySet()) {
            if (e.getKey().equals("transfer")) continue;
            Method main = Class.forName("dev.kiln.examples." + e.getValue()).getMethod("main", String[].class);
            assertTrue(Modifier.isStatic(main.getModifiers()), e.getValue() + ".main must be static");
        }
    }

    private static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.isRegularFile(dir.resolve("kiln")) && Files.isRegularFile(dir.resolve("pom.xml")))) dir = dir.getParent();
        assertTrue(dir != null, "the ./kiln launcher was not found above " + Path.of("").toAbsolutePath());
        return dir;
    }

    private static Map<String, String> table() throws IOException {
        Path dir = root();
        Matcher m = Pattern.compile("^\\s+\"([a-z-]+)\\|([A-Za-z]+)\\|", Pattern.MULTILINE).matcher(Files.readString(dir.resolve("kiln")));
        Map<String, String> t = new LinkedHashMap<>();
        while (m.find()) t.put(m.group(1), m.group(2));
        return t;
    }
}
