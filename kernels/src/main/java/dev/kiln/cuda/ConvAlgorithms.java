package dev.kiln.cuda;

import dev.kiln.cuda.ffi.Cudnn;
import dev.kiln.graph.ConvGeometry;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The cuDNN algorithm each convolution shape runs, chosen once per process and cached by its {@link Key} (pass,
 * geometry, math type): the first time a shape is lowered, cuDNN's candidates are asked for (heuristics, or measured
 * runs when autotuning) and {@link #pick} takes the best that is deterministic (Kiln's rule: the same inputs give the
 * same bits, so no algorithm whose reductions use atomics) and whose workspace fits the limit; later programs with the
 * same shape reuse it without asking. No fitting candidate caches an empty choice: that shape runs on Kiln's own kernels.
 *
 * <pre>{@code
 * Optional<ConvAlgorithms.Choice> c = algorithms.choose(new Key(Pass.FORWARD, g, Cudnn.CUDNN_FMA_MATH), key -> heuristics(key));
 * }</pre>
 */
final class ConvAlgorithms {
    enum Pass { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /** What a choice depends on; ConvGeometry is a record of ints, so equal shapes are equal keys. */
    record Key(Pass pass, ConvGeometry geometry, int mathType) {}

    /** One cudnnConvolution*AlgoPerf_t record. */
    record Perf(int algo, int status, float millis, long memory, int determinism, int mathType) {
        /**
         * Record {@code i} of an array cuDNN wrote: {algo int, status int, time float, (4 bytes padding), memory size_t,
         * determinism int, mathType int, reserved int[3]} on x86-64, {@link Cudnn#ALGO_PERF_BYTES} each.
         */
        static Perf read(MemorySegment records, int i) {
            long at = (long) i * Cudnn.ALGO_PERF_BYTES;
            return new Perf(records.get(JAVA_INT, at), records.get(JAVA_INT, at + 4), records.get(JAVA_FLOAT, at + 8),
                    records.get(JAVA_LONG, at + 16), records.get(JAVA_INT, at + 24), records.get(JAVA_INT, at + 28));
        }

        static List<Perf> readAll(MemorySegment records, int count) {
            List<Perf> l = new ArrayList<>(count);
            for (int i = 0; i < count; i++) l.add(read(records, i));
            return l;
        }
    }

    /** The algorithm, its workspace, and how it was found ("heuristic" or "measured"), for dumps. */
    record Choice(int algo, long workspaceBytes, int mathType, String how) {}

    /** cuDNN's candidates for a key, best first. */
    interface Candidates { List<Perf> of(Key key); }

    private final Map<Key, Optional<Choice>> cache = new HashMap<>();
    private final long workspaceLimit;
    private final String how;
    private int asked;

    /** @param how "heuristic" or "measured": what the candidates are */
    ConvAlgorithms(long workspaceLimit, String how) {
        this.workspaceLimit = workspaceLimit;
        this.how = how;
    }

    /** The cached choice for {@code key}, asking {@code candidates} only the first time. */
    synchronized Optional<Choice> choose(Key key, Candidates candidates) {
        Optional<Choice> c = cache.get(key);
        if (c == null) {
            asked++;
            c = pick(candidates.of(key), workspaceLimit, how);
            cache.put(key, c);
        }
        return c;
    }

    /** The first candidate that succeeded, is deterministic and needs at most {@code limit} bytes of workspace. */
    static Optional<Choice> pick(List<Perf> candidates, long limit, String how) {
        for (Perf p : candidates) {
            if (p.status() == Cudnn.CUDNN_STATUS_SUCCESS && p.determinism() == Cudnn.CUDNN_DETERMINISTIC && p.memory() >= 0 && p.memory() <= limit) {
                return Optional.of(new Choice(p.algo(), p.memory(), p.mathType(), how));
            }
        }
        return Optional.empty();
    }

    /** How many times cuDNN was asked (cache misses). */
    synchronized int asked() { return asked; }

    synchronized int size() { return cache.size(); }
}
