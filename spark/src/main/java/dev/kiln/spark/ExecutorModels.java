package dev.kiln.spark;

import dev.kiln.serve.Predictor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@link Predictor} per executor JVM and model: the first task that needs a model loads it, every later task and
 * partition in the same JVM reuses it. Keyed by the model file's name and a checksum of its bytes, so a changed file
 * under the same name loads afresh. Predictors live as long as the executor (they hold compiled programs only).
 */
final class ExecutorModels {
    private static final ConcurrentHashMap<String, Predictor> LOADED = new ConcurrentHashMap<>();

    private ExecutorModels() {}

    /** The predictor of the model whose file's bytes are {@code bytes} (shipped by broadcast); {@code name} is for messages. */
    static Predictor fromBytes(String name, long checksum, byte[] bytes, int maxBatch) {
        return LOADED.computeIfAbsent(name + "#" + Long.toHexString(checksum) + "#" + maxBatch, k -> {
            Path tmp = null;
            try {
                tmp = Files.createTempFile("kiln-model-", ".kiln");
                Files.write(tmp, bytes);
                return Predictor.of(dev.kiln.nn.Model.load(tmp), Runtime.getRuntime().availableProcessors(), maxBatch);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                if (tmp != null) try { Files.deleteIfExists(tmp); } catch (IOException ignored) { /* a temp file */ }
            }
        });
    }

    /** The predictor of the model at {@code file} on storage every executor reads (keyed by path, size and time). */
    static Predictor fromPath(Path file, int maxBatch) {
        String key;
        try {
            key = file.toAbsolutePath() + "#" + Files.size(file) + "#" + Files.getLastModifiedTime(file).toMillis() + "#" + maxBatch;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return LOADED.computeIfAbsent(key, k -> {
            try {
                return Predictor.of(dev.kiln.nn.Model.load(file), Runtime.getRuntime().availableProcessors(), maxBatch);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** How many predictors this JVM holds (for tests: one per model, however many tasks ran). */
    static int loadedCount() { return LOADED.size(); }
}
