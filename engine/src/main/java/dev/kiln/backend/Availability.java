package dev.kiln.backend;

import java.util.List;

/**
 * Whether a backend can run here, and the checks behind that answer: each line says what was
 * looked for, what was found, and — when it failed — what to do about it.
 */
public record Availability(boolean usable, String summary, List<String> checks) {
    public Availability { checks = List.copyOf(checks); }

    public static Availability usable(String summary, List<String> checks) { return new Availability(true, summary, checks); }

    public static Availability unavailable(String summary, List<String> checks) { return new Availability(false, summary, checks); }
}
