package dev.kiln.io;

import dev.kiln.io.Json.LimitException;
import dev.kiln.io.Json.SyntaxException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The strict parser behind {@link Json#parse}: one pass over the bytes, under the {@link Json.Limits} it was given. */
final class JsonReader {
    private final MemorySegment in;
    private final Json.Limits limits;
    private final int end;
    private int pos, values;

    /** The one value in {@code utf8}, with only whitespace around it. */
    static Object parse(MemorySegment utf8, Json.Limits limits) throws SyntaxException {
        JsonReader r = new JsonReader(utf8, limits);
        r.skipWhitespace();
        Object value = r.value(0);
        r.skipWhitespace();
        if (r.pos < r.end) throw r.error("unexpected content after the value");
        return value;
    }

    private JsonReader(MemorySegment in, Json.Limits limits) {
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
        // up to 19 digits may fit a long; a minus sign is not a digit (a seed from nextLong has 19 and a sign)
        if (integral && pos - s - (at(s) == '-' ? 1 : 0) <= 19) {
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
