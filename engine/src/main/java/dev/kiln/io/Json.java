package dev.kiln.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON (RFC 8259) reader and writer for model files.
 * Values map to {@code Map<String,Object>} (insertion-ordered), {@code List<Object>}, {@code String},
 * {@code Long} (integers without fraction or exponent that fit), {@code Double}, {@code Boolean} and {@code null}.
 *
 * <p>Strict means: no comments, trailing commas, leading zeros, NaN/Infinity, unescaped control characters,
 * invalid UTF-8, lone surrogates in escapes, duplicate keys or trailing content. Input size and nesting depth
 * are bounded, so hostile input fails with a {@link SyntaxException} naming the byte offset instead of
 * exhausting the stack or the heap.
 *
 * <pre>{@code
 * Map<?, ?> header = (Map<?, ?>) Json.parse(bytes);
 * String text = Json.write(Map.of("dtype", "F32", "shape", List.of(2, 3)));
 * }</pre>
 */
public final class Json {
    /** Nesting deeper than this is rejected: model headers are 3–4 levels deep. */
    public static final int DEFAULT_MAX_DEPTH = 64;
    /** Inputs larger than this are rejected before parsing. */
    public static final int DEFAULT_MAX_BYTES = 100_000_000;

    /**
     * Bounds on one parse, so that what it allocates is bounded by the caps and not by how the input spends its
     * bytes: a parse fails as soon as it passes one, before it builds more. {@code maxEntries} counts the members
     * of one object or the elements of one array; {@code maxValues} counts every value of the document;
     * {@code maxStringBytes} is the UTF-8 length of one string, key or value.
     */
    public record Limits(int maxBytes, int maxDepth, int maxEntries, int maxValues, int maxStringBytes) {
        /**
         * For model documents and small files: a model's architecture document holds a few thousand values;
         * four million leaves room and still bounds the tree to a few hundred MB.
         */
        public static final Limits DEFAULT = new Limits(DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, 1 << 22, 1 << 22, DEFAULT_MAX_BYTES);

        public Limits {
            if (maxBytes < 0 || maxDepth < 1 || maxEntries < 1 || maxValues < 1 || maxStringBytes < 0) {
                throw new IllegalArgumentException("JSON limits must be positive, got " + maxBytes + ", " + maxDepth + ", " + maxEntries + ", " + maxValues + ", " + maxStringBytes);
            }
        }
    }

    /** Malformed JSON; {@link #offset()} is the byte offset of the first offending byte. */
    public static sealed class SyntaxException extends IOException permits LimitException {
        private final long offset;

        public SyntaxException(String message, long offset) {
            super(message + " at byte " + offset);
            this.offset = offset;
        }

        public long offset() { return offset; }
    }

    /** Input that passes one of the {@link Limits} (well-formed or not); the message names the cap. */
    public static final class LimitException extends SyntaxException {
        public LimitException(String message, long offset) { super(message, offset); }
    }

    private Json() {}

    public static Object parse(String text) throws SyntaxException {
        return parse(text.getBytes(StandardCharsets.UTF_8));
    }

    public static Object parse(byte[] utf8) throws SyntaxException {
        return parse(MemorySegment.ofArray(utf8), Limits.DEFAULT);
    }

    /** Parses {@code utf8[from, to)}; offsets in errors are relative to {@code from}. */
    public static Object parse(byte[] utf8, int from, int to, int maxDepth, int maxBytes) throws SyntaxException {
        if (from < 0 || to > utf8.length || from > to) throw new IllegalArgumentException("range [" + from + ", " + to + ") is outside the " + utf8.length + "-byte input");
        Limits d = Limits.DEFAULT;
        return parse(MemorySegment.ofArray(utf8).asSlice(from, to - from), new Limits(maxBytes, maxDepth, d.maxEntries(), d.maxValues(), d.maxStringBytes()));
    }

    /**
     * Parses the UTF-8 bytes of {@code utf8}, a heap array or a mapped file region (then only the bytes the parse
     * reaches are read from disk); offsets in errors are relative to its start.
     */
    public static Object parse(MemorySegment utf8, Limits limits) throws SyntaxException {
        if (utf8.byteSize() > limits.maxBytes()) throw new LimitException("input of " + utf8.byteSize() + " bytes exceeds the limit of " + limits.maxBytes(), 0);
        return JsonReader.parse(utf8, limits);
    }

    /** Compact JSON for a value built of Map (String keys), List, String, Number, Boolean and null. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object value, int depth) {
        // a cyclic structure would otherwise recurse until the stack overflows
        if (depth > DEFAULT_MAX_DEPTH) throw new IllegalArgumentException("value nests deeper than " + DEFAULT_MAX_DEPTH + " (a cycle?)");
        switch (value) {
            case null -> sb.append("null");
            case String s -> quote(sb, s);
            case Boolean b -> sb.append(b);
            case Long l -> sb.append(l);
            case Integer i -> sb.append(i);
            case Short s -> sb.append(s);
            case Byte b -> sb.append(b);
            case Double d -> writeDouble(sb, d);
            case Float f -> writeDouble(sb, f.doubleValue());
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!(e.getKey() instanceof String k)) throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
                    if (!first) sb.append(',');
                    first = false;
                    quote(sb, k);
                    sb.append(':');
                    write(sb, e.getValue(), depth + 1);
                }
                sb.append('}');
            }
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) sb.append(',');
                    write(sb, l.get(i), depth + 1);
                }
                sb.append(']');
            }
            default -> throw new IllegalArgumentException("cannot write a " + value.getClass().getName() + " as JSON");
        }
    }

    private static void writeDouble(StringBuilder sb, double d) {
        if (!Double.isFinite(d)) throw new IllegalArgumentException("JSON has no " + d);
        // Double.toString gives the shortest text that reads back to the same double, and is valid JSON ("1.0E-5")
        sb.append(d);
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (Character.isSurrogate(c) && !validPair(s, i)) throw new IllegalArgumentException("string has a lone surrogate at index " + i + ", which UTF-8 cannot encode");
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    private static boolean validPair(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
