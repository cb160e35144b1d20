package dev.kiln.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
        Reader r = new Reader(utf8, limits);
        r.skipWhitespace();
        Object value = r.value(0);
        r.skipWhitespace();
        if (r.pos < r.end) throw r.error("unexpected content after the value");
        return value;
    }

    private static final class Reader {
        private final MemorySegment in;
        private final Limits limits;
        private final int end;
        private int pos, values;

        Reader(MemorySegment in, Limits limits) {
            this.in = in;
            this.limits = limits;
            this.end = (int) in.byteSize();
            this.window = new byte[Math.min(WINDOW, end)];
        }

        // Bytes are read through a window copied in bulk: a segment's get() per byte costs ~20x an array load until
        // the JIT compiles the parse, and a header that fails is parsed once, cold.
        private static final int WINDOW = 1 << 16;
        private final byte[] window;
        private int windowStart, windowEnd;

        private byte at(int i) {
            if (i < windowStart || i >= windowEnd) {
                windowStart = i;
                windowEnd = (int) Math.min(end, (long) i + window.length);
                MemorySegment.copy(in, ValueLayout.JAVA_BYTE, i, window, 0, windowEnd - windowStart);
            }
            return window[i - windowStart];
        }

        SyntaxException error(String message) { return new SyntaxException(message, pos); }

        void skipWhitespace() {
            while (pos < end) {
                byte b = at(pos);
                if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return;
                pos++;
            }
        }

        /** Counts one more value of the document, failing past the cap before the value is built. */
        private void countValue() throws SyntaxException {
            if (++values > limits.maxValues()) throw new LimitException("more than " + limits.maxValues() + " values in the document", pos);
        }

        private void countEntry(int entries, String container) throws SyntaxException {
            if (entries >= limits.maxEntries()) throw new LimitException("more than " + limits.maxEntries() + " entries in one " + container, pos);
        }

        Object value(int depth) throws SyntaxException {
            if (pos >= end) throw error("unexpected end of input, expected a value");
            countValue();
            return switch (at(pos)) {
                case '{' -> object(depth + 1);
                case '[' -> array(depth + 1);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    byte b = at(pos);
                    if (b == '-' || (b >= '0' && b <= '9')) yield number();
                    throw error("unexpected character " + describe(b) + ", expected a value");
                }
            };
        }

        private Object literal(String word, Object value) throws SyntaxException {
            for (int i = 0; i < word.length(); i++) {
                if (pos + i >= end || at(pos + i) != word.charAt(i)) { pos += i; throw error("invalid literal, expected '" + word + "'"); }
            }
            pos += word.length();
            return value;
        }

        private Map<String, Object> object(int depth) throws SyntaxException {
            if (depth > limits.maxDepth()) throw new LimitException("nesting deeper than " + limits.maxDepth(), pos);
            pos++; // '{'
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (pos < end && at(pos) == '}') { pos++; return map; }
            while (true) {
                skipWhitespace();
                countEntry(map.size(), "object");
                if (pos >= end || at(pos) != '"') throw error(pos >= end ? "unexpected end of input, expected a key" : "expected a string key");
                int keyAt = pos;
                String key = string();
                skipWhitespace();
                if (pos >= end || at(pos) != ':') throw error("expected ':' after a key");
                pos++;
                skipWhitespace();
                Object v = value(depth);
                if (map.containsKey(key)) { pos = keyAt; throw error("duplicate key \"" + key + "\""); }
                map.put(key, v);
                skipWhitespace();
                if (pos >= end) throw error("unexpected end of input in an object");
                if (at(pos) == ',') { pos++; continue; }
                if (at(pos) == '}') { pos++; return map; }
                throw error("expected ',' or '}' in an object");
            }
        }

        private List<Object> array(int depth) throws SyntaxException {
            if (depth > limits.maxDepth()) throw new LimitException("nesting deeper than " + limits.maxDepth(), pos);
            pos++; // '['
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (pos < end && at(pos) == ']') { pos++; return list; }
            while (true) {
                skipWhitespace();
                countEntry(list.size(), "array");
                list.add(value(depth));
                skipWhitespace();
                if (pos >= end) throw error("unexpected end of input in an array");
                if (at(pos) == ',') { pos++; continue; }
                if (at(pos) == ']') { pos++; return list; }
                throw error("expected ',' or ']' in an array");
            }
        }

        private String string() throws SyntaxException {
            int open = pos++;
            StringBuilder sb = null; // only needed when the string has escapes
            int runStart = pos;
            while (true) {
                if (pos >= end) { pos = open; throw error("unterminated string"); }
                byte b = at(pos);
                if (b == '"') {
                    String run = utf8(runStart, pos);
                    pos++;
                    return sb == null ? run : sb.append(run).toString();
                }
                // pos - open raw bytes once this one is taken: stop before building a longer string
                if (pos - open > limits.maxStringBytes()) { pos = open; throw new LimitException("string longer than " + limits.maxStringBytes() + " bytes", pos); }
                if ((b & 0xff) < 0x20) throw error("unescaped control character " + describe(b) + " in a string");
                if (b != '\\') { pos++; continue; }
                if (sb == null) sb = new StringBuilder();
                sb.append(utf8(runStart, pos));
                pos++;
                if (pos >= end) throw error("unterminated escape");
                switch (at(pos)) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        int escapeAt = pos - 1;
                        char c = hex4(pos + 1);
                        pos += 4;
                        if (Character.isHighSurrogate(c)) {
                            if (pos + 6 >= end || at(pos + 1) != '\\' || at(pos + 2) != 'u') { pos = escapeAt; throw error("high surrogate without a low surrogate"); }
                            char low = hex4(pos + 3);
                            if (!Character.isLowSurrogate(low)) { pos = escapeAt; throw error("high surrogate without a low surrogate"); }
                            sb.append(c).append(low);
                            pos += 6;
                        } else if (Character.isLowSurrogate(c)) {
                            pos = escapeAt;
                            throw error("lone low surrogate");
                        } else {
                            sb.append(c);
                        }
                    }
                    default -> throw error("invalid escape " + describe(at(pos)));
                }
                pos++;
                runStart = pos;
            }
        }

        private char hex4(int at) throws SyntaxException {
            if (at + 4 > end) { pos = at; throw error("truncated \\u escape"); }
            int v = 0;
            for (int i = at; i < at + 4; i++) {
                int d = Character.digit(at(i), 16);
                if (d < 0) { pos = i; throw error("invalid hex digit in \\u escape"); }
                v = v * 16 + d;
            }
            return (char) v;
        }

        private String utf8(int from, int to) throws SyntaxException {
            if (from >= windowStart && to <= windowEnd) {
                // ASCII, the common case, needs no validation and no decoder
                boolean ascii = true;
                for (int i = from - windowStart; ascii && i < to - windowStart; i++) ascii = window[i] >= 0;
                if (ascii) return new String(window, from - windowStart, to - from, StandardCharsets.ISO_8859_1);
            }
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(in.asSlice(from, to - from).asByteBuffer()).toString();
            } catch (CharacterCodingException e) {
                pos = from;
                throw error("invalid UTF-8 in the string starting");
            }
        }

        private Object number() throws SyntaxException {
            int s = pos;
            boolean integral = true;
            if (at(pos) == '-') pos++;
            if (pos >= end) throw error("truncated number");
            if (at(pos) == '0') {
                pos++;
                if (pos < end && isDigit(at(pos))) throw error("leading zero in a number");
            } else if (isDigit(at(pos))) {
                while (pos < end && isDigit(at(pos))) pos++;
            } else {
                throw error("expected a digit");
            }
            if (pos < end && at(pos) == '.') {
                integral = false;
                pos++;
                if (pos >= end || !isDigit(at(pos))) throw error("expected a digit after '.'");
                while (pos < end && isDigit(at(pos))) pos++;
            }
            if (pos < end && (at(pos) == 'e' || at(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < end && (at(pos) == '+' || at(pos) == '-')) pos++;
                if (pos >= end || !isDigit(at(pos))) throw error("expected a digit in the exponent");
                while (pos < end && isDigit(at(pos))) pos++;
            }
            String text = new String(in.asSlice(s, pos - s).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
            if (integral && pos - s <= 19) {
                try {
                    return Long.parseLong(text);
                } catch (NumberFormatException tooLarge) {
                    // 19 digits can exceed Long.MAX_VALUE; such integers become doubles, as below
                }
            }
            double d = Double.parseDouble(text);
            if (Double.isInfinite(d)) { pos = s; throw error("number out of range"); }
            return d;
        }

        private static boolean isDigit(byte b) { return b >= '0' && b <= '9'; }

        private static String describe(byte b) {
            int u = b & 0xff;
            return u >= 0x20 && u < 0x7f ? "'" + (char) u + "'" : String.format("0x%02x", u);
        }
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
