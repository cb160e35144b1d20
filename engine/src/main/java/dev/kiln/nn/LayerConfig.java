package dev.kiln.nn;

import java.util.List;
import java.util.Map;

/**
 * Typed reads of a layer's {@code config()} map as it comes back from JSON (integers as Long,
 * reals as Double). A missing or mistyped field fails with an {@link IllegalArgumentException}
 * naming the field and what was found; {@link Layers#fromConfig} adds the layer's type and name.
 */
final class LayerConfig {
    private LayerConfig() {}

    static Object field(Map<String, Object> c, String key) {
        if (!c.containsKey(key)) throw new IllegalArgumentException("config is missing field '" + key + "'; it has " + c.keySet());
        return c.get(key);
    }

    static int integer(Map<String, Object> c, String key) {
        Object v = field(c, key);
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) <= Integer.MAX_VALUE) return n.intValue();
        throw mistyped(key, "an integer", v);
    }

    static long longInteger(Map<String, Object> c, String key) {
        Object v = field(c, key);
        if (v instanceof Long l) return l;
        if (v instanceof Integer i) return i;
        throw mistyped(key, "an integer", v);
    }

    static double real(Map<String, Object> c, String key) {
        Object v = field(c, key);
        if (v instanceof Number n) return n.doubleValue();
        throw mistyped(key, "a number", v);
    }

    static boolean bool(Map<String, Object> c, String key) {
        Object v = field(c, key);
        if (v instanceof Boolean b) return b;
        throw mistyped(key, "true or false", v);
    }

    static String string(Map<String, Object> c, String key) {
        Object v = field(c, key);
        if (v instanceof String s) return s;
        throw mistyped(key, "a string", v);
    }

    /** A list of {@code n} integers (n < 0: any length). */
    static int[] integers(Map<String, Object> c, String key, int n) {
        Object v = field(c, key);
        if (!(v instanceof List<?> l) || (n >= 0 && l.size() != n)) throw mistyped(key, n < 0 ? "a list of integers" : "a list of " + n + " integers", v);
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Number x) || x.doubleValue() != Math.rint(x.doubleValue())) throw mistyped(key, "a list of integers", v);
            out[i] = x.intValue();
        }
        return out;
    }

    /** An enum constant by its name, case-insensitive ("relu", "GLOROT_UNIFORM"). */
    static <E extends Enum<E>> E constant(Map<String, Object> c, String key, Class<E> type) {
        String s = string(c, key);
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(s)) return e;
        throw new IllegalArgumentException("field '" + key + "' is '" + s + "', not one of " + List.of(type.getEnumConstants()));
    }

    private static IllegalArgumentException mistyped(String key, String expected, Object found) {
        return new IllegalArgumentException("field '" + key + "' must be " + expected + ", found " + dev.kiln.io.Json.write(found));
    }
}
