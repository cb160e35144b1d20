package dev.kiln.graph;

/**
 * Names the layer (or other unit) that is building nodes, so that errors and dumps say
 * "in dense_2". Scopes nest: {@code try (var s = Scope.enter("dense_2")) { ... }}.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();
    private final String previous;

    private Scope(String name) {
        this.previous = CURRENT.get();
        CURRENT.set(previous == null ? name : previous + "/" + name);
    }

    public static Scope enter(String name) { return new Scope(name); }

    static String current() { return CURRENT.get(); }

    @Override public void close() { CURRENT.set(previous); }
}
