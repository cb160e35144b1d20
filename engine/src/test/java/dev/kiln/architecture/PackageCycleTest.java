package dev.kiln.architecture;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The engine's packages import each other in one direction only (STYLE.md: dependencies point one way):
 * every reference from one dev.kiln package to another, in imports or fully qualified in code, is an edge,
 * and the graph of packages must have no cycle. Comments and string literals are skipped: a Javadoc link
 * is documentation, not a dependency. A failure names each cycle and, per edge, the files that make it.
 */
class PackageCycleTest {
    private static final Path SOURCES = Path.of("src/main/java");
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    /** dev.kiln.a.b.Type (a type in package dev.kiln.a.b) or dev.kiln.a.b.* (a whole package). */
    private static final Pattern REFERENCE = Pattern.compile("\\b(dev\\.kiln(?:\\.[a-z_][\\w]*)+)\\.(?:[A-Z]\\w*|\\*)");

    /** Source text without comments, string and character literals (kept apart from the edges they could fake). */
    static String code(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0, n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                while (i < n && src.charAt(i) != '\n') i++;
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                out.append(' ');
            } else if (src.startsWith("\"\"\"", i)) {
                int end = src.indexOf("\"\"\"", i + 3);
                i = end < 0 ? n : end + 3;
                out.append("\"\"");
            } else if (c == '"' || c == '\'') {
                i++;
                while (i < n && src.charAt(i) != c) i += src.charAt(i) == '\\' ? 2 : 1;
                i++;
                out.append(c).append(c);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** package → package it references → the files (simple names) that reference it. */
    static Map<String, Map<String, Set<String>>> edges(Path root) throws IOException {
        Map<String, Map<String, Set<String>>> edges = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) { files = s.filter(p -> p.toString().endsWith(".java")).toList(); }
        for (Path f : files) {
            String src = code(Files.readString(f));
            Matcher pm = PACKAGE.matcher(src);
            if (!pm.find()) continue;
            String from = pm.group(1);
            edges.computeIfAbsent(from, k -> new TreeMap<>());
            Matcher m = REFERENCE.matcher(src);
            while (m.find()) {
                String to = m.group(1);
                if (!to.equals(from)) edges.get(from).computeIfAbsent(to, k -> new TreeSet<>()).add(f.getFileName().toString());
            }
        }
        return edges;
    }

    /** Strongly connected components of more than one package (Tarjan). */
    static List<List<String>> cycles(Map<String, Map<String, Set<String>>> edges) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<List<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : edges.keySet()) if (!index.containsKey(v)) connect(v, edges, index, low, stack, onStack, out, counter);
        return out;
    }

    private static void connect(String v, Map<String, Map<String, Set<String>>> edges, Map<String, Integer> index, Map<String, Integer> low,
                                Deque<String> stack, Set<String> onStack, List<List<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : edges.getOrDefault(v, Map.of()).keySet()) {
            if (!index.containsKey(w)) {
                connect(w, edges, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            List<String> component = new ArrayList<>();
            String w;
            do { w = stack.pop(); onStack.remove(w); component.add(w); } while (!w.equals(v));
            if (component.size() > 1) out.add(component.stream().sorted().toList());
        }
    }

    @Test
    void engineHasNoPackageCycle() throws IOException {
        Map<String, Map<String, Set<String>>> edges = edges(SOURCES);
        assertTrue(edges.size() > 10, "read the engine's packages from " + SOURCES.toAbsolutePath() + ": found " + edges.keySet());
        StringBuilder report = new StringBuilder();
        for (List<String> cycle : cycles(edges)) {
            report.append("\ncycle among ").append(cycle).append(':');
            for (String a : cycle) for (Map.Entry<String, Set<String>> e : edges.get(a).entrySet()) {
                if (cycle.contains(e.getKey())) report.append("\n  ").append(a).append(" -> ").append(e.getKey()).append(" in ").append(e.getValue());
            }
        }
        assertEquals("", report.toString(), "packages of engine/src/main import each other in a circle; make one side depend on the other only");
    }

    @Test
    void theCheckFindsACycleAndIgnoresComments() throws IOException {
        Path dir = Files.createTempDirectory("kiln-cycle");
        try {
            Files.createDirectories(dir.resolve("a"));
            Files.createDirectories(dir.resolve("b"));
            Files.writeString(dir.resolve("a/A.java"), "package dev.kiln.a;\nimport dev.kiln.b.B;\nclass A {}\n");
            Files.writeString(dir.resolve("b/B.java"), "package dev.kiln.b;\n/** {@link dev.kiln.c.C} */\nclass B { String s = \"dev.kiln.c.C\"; dev.kiln.a.A a; }\n");
            Files.createDirectories(dir.resolve("c"));
            Files.writeString(dir.resolve("c/C.java"), "package dev.kiln.c;\nimport dev.kiln.b.*;\nclass C {}\n");
            Map<String, Map<String, Set<String>>> e = edges(dir);
            assertEquals(Set.of("dev.kiln.a"), e.get("dev.kiln.b").keySet(), "the link and the string are not edges");
            assertEquals(List.of(List.of("dev.kiln.a", "dev.kiln.b")), cycles(e));
        } finally {
            try (Stream<Path> s = Files.walk(dir)) { for (Path p : s.sorted((x, y) -> y.compareTo(x)).toList()) Files.delete(p); }
        }
    }
}
