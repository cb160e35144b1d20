package dev.kiln.io;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class JsonTest {

    @Test
    void parsesEveryValueKindIntoJavaTypes() throws Exception {
        Object v = Json.parse("{\"a\": [1, -2, 3.5, 1e3, true, false, null], \"b\": {\"c\": \"x\\ny\\u00e9\\ud83d\\ude00\"}, \"big\": 12345678901234567890}");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of(1L, -2L, 3.5, 1000.0, true, false), ((List<?>) m.get("a")).subList(0, 6));
        assertNull(((List<?>) m.get("a")).get(6));
        assertEquals("x\nyé😀", ((Map<?, ?>) m.get("b")).get("c"));
        assertEquals(1.2345678901234567e19, (Double) m.get("big"), 1e4);
        assertEquals(List.of("a", "b", "big"), List.copyOf(m.keySet()), "object keys keep their order");
    }

    @Test
    void writeThenParseGivesTheSameValue() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "quote \" backslash \\ tab \t ctrl \u0001 é 😀");
        m.put("n", List.of(0L, -7L, Long.MAX_VALUE, 0.1, -2.5e-300, 1.0e300));
        m.put("z", null);
        m.put("nested", Map.of("t", true));
        assertEquals(m, Json.parse(Json.write(m)));
    }

    @Test
    void writerRejectsValuesJsonCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, "x")));
        assertThrows(IllegalArgumentException.class, () -> Json.write("\ud800"));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    private static long offsetOf(String text) {
        Json.SyntaxException e = assertThrows(Json.SyntaxException.class, () -> Json.parse(text), text);
        assertTrue(e.getMessage().contains("at byte " + e.offset()), e.getMessage());
        return e.offset();
    }

    @Test
    void malformedInputFailsAtTheOffendingByte() {
        assertEquals(6, offsetOf("[1, 2,]"));
        assertEquals(2, offsetOf("[01]"));
        assertEquals(5, offsetOf("{\"a\" 1}"));
        assertEquals(9, offsetOf("{\"a\": 1, \"a\": 2}"), "duplicate key points at the second key");
        assertEquals(2, offsetOf("1 2"));
        assertEquals(0, offsetOf("\"abc"));
        assertEquals(1, offsetOf("[NaN]"));
        assertEquals(2, offsetOf("\"a\u0001\""));
        assertEquals(2, offsetOf("\"\\x\""));
        assertEquals(1, offsetOf("\"\\ud800\""));
        assertEquals(0, offsetOf(""));
        assertEquals(3, offsetOf("[1."));
        assertEquals(4, offsetOf("[tru]"));
        assertEquals(0, offsetOf("1e999"));
    }

    @Test
    void invalidUtf8IsRejected() {
        byte[] bad = {'"', (byte) 0xc3, (byte) 0x28, '"'};
        assertThrows(Json.SyntaxException.class, () -> Json.parse(bad));
    }

    @Test
    void deepNestingFailsCleanlyInsteadOfOverflowingTheStack() {
        String deep = "[".repeat(1_000_000);
        Json.SyntaxException e = assertThrows(Json.SyntaxException.class, () -> Json.parse(deep));
        assertEquals(Json.DEFAULT_MAX_DEPTH, e.offset());
        assertDoesNotThrow(() -> Json.parse("[".repeat(Json.DEFAULT_MAX_DEPTH) + "]".repeat(Json.DEFAULT_MAX_DEPTH)));
    }

    @Test
    void oversizedInputIsRejectedBeforeParsing() {
        byte[] text = "[1,2,3]".getBytes(StandardCharsets.UTF_8);
        assertThrows(Json.SyntaxException.class, () -> Json.parse(text, 0, text.length, 8, 6));
    }

    @Test
    void randomMutationsEndInAValueOrASyntaxException() {
        byte[] valid = "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 24]}, \"s\": \"\\u00e9\\n\", \"x\": [-1.5e-3, true, null]}"
                .getBytes(StandardCharsets.UTF_8);
        Random rnd = new Random(42);
        int parsed = 0;
        for (int iter = 0; iter < 5000; iter++) {
            byte[] b = Arrays.copyOf(valid, valid.length);
            for (int k = 1 + rnd.nextInt(3); k > 0; k--) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            byte[] input = rnd.nextInt(4) == 0 ? Arrays.copyOf(b, rnd.nextInt(b.length)) : b;
            try {
                Json.parse(input);
                parsed++;
            } catch (Json.SyntaxException expected) {
                assertTrue(expected.offset() >= 0 && expected.offset() <= input.length, expected.getMessage());
            }
        }
        assertTrue(parsed > 0 && parsed < 5000, "mutations should give both outcomes, parsed " + parsed);
    }

    private static long limitOffset(String text, Json.Limits limits, String message) {
        Json.LimitException e = assertThrows(Json.LimitException.class, () -> Json.parse(java.lang.foreign.MemorySegment.ofArray(text.getBytes(StandardCharsets.UTF_8)), limits), text);
        assertTrue(e.getMessage().contains(message), e.getMessage());
        return e.offset();
    }

    @Test
    void eachLimitStopsTheParseAtTheFirstValuePastIt() throws Exception {
        Json.Limits limits = new Json.Limits(100, 2, 3, 8, 4);
        assertEquals(7, limitOffset("[1,2,3,4]", limits, "more than 3 entries in one array"));
        assertEquals(19, limitOffset("{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", limits, "more than 3 entries in one object"));
        assertEquals(2, limitOffset("[[[1]]]", limits, "nesting deeper than 2"));
        assertEquals(1, limitOffset("[\"abcde\"]", limits, "string longer than 4 bytes"));
        assertEquals(14, limitOffset("[[1,2],[3,4],[5,6]]", limits, "more than 8 values"));
        assertEquals(0, limitOffset("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50]", limits, "exceeds the limit of 100"));
        // just within each cap: parses
        assertEquals(List.of(List.of(1L, 2L), List.of(3L, 4L), "abcd"), Json.parse(java.lang.foreign.MemorySegment.ofArray("[[1,2],[3,4],\"abcd\"]".getBytes(StandardCharsets.UTF_8)), limits));
    }
}
