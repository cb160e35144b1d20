package dev.kiln.spark;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The checkpoint folder of data-parallel training: after epoch k, {@code epoch-000k.kiln} (the model file: weights,
 * optimizer state, step counter) and {@code epoch-000k.loss} (the loss of every epoch so far, one a line), each written
 * to a temporary name and moved into place atomically, the loss file first, so a checkpoint is whole or absent.
 * {@code events.log} collects, one line each, which task failed where and where training resumed.
 */
final class Checkpoints {
    private final Path dir;

    Checkpoints(Path dir) { this.dir = dir; }

    static String name(int epoch) { return String.format("epoch-%04d", epoch); }

    Path model(int epoch) { return dir.resolve(name(epoch) + ".kiln"); }

    /** The highest epoch with a complete checkpoint, or 0. */
    int latest() throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        int best = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String f = p.getFileName().toString();
                if (f.matches("epoch-\\d{4,}\\.kiln")) best = Math.max(best, Integer.parseInt(f.substring(6, f.length() - 5)));
            }
        }
        return best;
    }

    List<Double> losses(int epoch) throws IOException {
        List<Double> l = new ArrayList<>();
        for (String s : Files.readAllLines(dir.resolve(name(epoch) + ".loss"))) if (!s.isBlank()) l.add(Double.parseDouble(s));
        return l;
    }

    /** Writes epoch {@code epoch}'s checkpoint from the model file bytes {@code model} and the losses so far. */
    void write(int epoch, Path savedModel, List<Double> losses) throws IOException {
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder();
        for (double d : losses) sb.append(d).append('\n');
        Path lossTmp = dir.resolve(name(epoch) + ".loss.tmp");
        Files.writeString(lossTmp, sb);
        move(lossTmp, dir.resolve(name(epoch) + ".loss"));
        Path modelTmp = dir.resolve(name(epoch) + ".kiln.tmp");
        Files.copy(savedModel, modelTmp, StandardCopyOption.REPLACE_EXISTING);
        move(modelTmp, model(epoch));
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("checkpoint folder " + from.getParent() + " does not support atomic renames; give a folder on a local or POSIX file system", e);
        }
    }

    void event(String line) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("events.log"), line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) { /* the event is logged anyway */ }
    }

    List<String> events() throws IOException {
        Path p = dir.resolve("events.log");
        return Files.exists(p) ? Files.readAllLines(p) : List.of();
    }
}
