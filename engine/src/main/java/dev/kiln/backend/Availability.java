package dev.kiln.backend;

import java.util.List;

/**
 * Whether a backend can run here, and the checks behind that answer: each line says what was
 * looked for, what was found, and — when it failed — what to do about it.
 *
 * <p>An unusable backend is either <em>absent</em> — what it runs on is not on this machine (no NVIDIA
 * driver), which is normal and logged only at DEBUG — or <em>present but unusable</em> — there is a GPU
 * but, say, libcudnn is missing — which {@link Backend#auto()} reports once as a WARNING with the checks
 * and their fixes, because the user probably expected it to be used.
 */
public record Availability(boolean usable, boolean present, String summary, List<String> checks) {
    public Availability {
        checks = List.copyOf(checks);
        if (usable && !present) throw new IllegalArgumentException("a usable backend is present");
    }

    public static Availability usable(String summary, List<String> checks) { return new Availability(true, true, summary, checks); }

    /** What the backend runs on is not on this machine (no device, no driver): passed over quietly. */
    public static Availability unavailable(String summary, List<String> checks) { return new Availability(false, false, summary, checks); }

    /** What the backend runs on is here, but something it needs is not (a library, a version): passed over with a warning. */
    public static Availability presentButUnusable(String summary, List<String> checks) { return new Availability(false, true, summary, checks); }
}
