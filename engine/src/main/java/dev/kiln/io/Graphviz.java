package dev.kiln.io;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Writes a Graphviz DOT graph: as DOT text when the path ends in {@code .dot}; as PNG or SVG
 * (by the path's ending) through Graphviz's {@code dot} program when it is on the PATH
 * (Debian: {@code apt-get install graphviz}); and, when it is not, as DOT text beside the asked-for
 * path (same name, {@code .dot}), with one WARNING through {@link System.Logger} (logger {@code dev.kiln.io})
 * saying so and how to draw it.
 *
 * <pre>{@code Path written = Graphviz.write(dotText, Path.of("model.png")); }</pre>
 */
public final class Graphviz {
    private static final System.Logger LOG = System.getLogger("dev.kiln.io");

    private Graphviz() {}

    /** The {@code dot} executable on the PATH, if any. */
    public static Optional<Path> dot() {
        String path = System.getenv("PATH");
        if (path == null) return Optional.empty();
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, "dot");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** Writes {@code dot} to {@code path} as described in the class comment; returns the file written. */
    public static Path write(String dot, Path path) throws IOException {
        String name = path.getFileName().toString(), lower = name.toLowerCase(Locale.ROOT);
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        if (lower.endsWith(".dot") || lower.endsWith(".gv")) {
            Files.writeString(path, dot, StandardCharsets.UTF_8);
            return path;
        }
        String format = lower.endsWith(".png") ? "png" : lower.endsWith(".svg") ? "svg" : null;
        if (format == null) throw new IllegalArgumentException(path + ": a graph picture is written as .png, .svg or .dot (DOT text); pick one of those endings");
        Optional<Path> exe = dot();
        if (exe.isEmpty()) {
            Path text = path.resolveSibling(name.substring(0, name.length() - 4) + ".dot");
            Files.writeString(text, dot, StandardCharsets.UTF_8);
            LOG.log(System.Logger.Level.WARNING, "Graphviz's 'dot' is not on the PATH, so " + path + " was not drawn; wrote the DOT text to " + text
                    + " instead (apt-get install graphviz, then call again, or render it with: dot -T" + format + " -o " + name + " " + text.getFileName() + ")");
            return text;
        }
        Path tmp = path.resolveSibling("." + name + ".tmp");
        Path log = Files.createTempFile("kiln-dot", ".log");
        try {
            Process p = new ProcessBuilder(exe.get().toString(), "-T" + format, "-o", tmp.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(dot.getBytes(StandardCharsets.UTF_8));
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(exe.get() + " did not finish drawing " + path + " within 120 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(exe.get() + " failed (exit " + p.exitValue() + ") drawing " + path + ": " + Files.readString(log).strip());
            }
            Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return path;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while drawing " + path, e);
        } finally {
            Files.deleteIfExists(tmp);
            Files.deleteIfExists(log);
        }
    }

    /** {@code s} as a quoted DOT string (quotes and backslashes escaped; newlines become centred line breaks). */
    public static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
}
