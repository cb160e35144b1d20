package dev.kiln.backend;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How {@link Backend#auto()} chooses, and what it says: the forced backend at INFO, the chosen one at DEBUG,
 * an absent one at DEBUG, and a present but unusable one (a GPU without libcudnn) once per JVM at WARNING,
 * with every check and its fix, so that a user who expected the GPU sees why it was not used.
 *
 * <p>Logging here, as everywhere in the engine, goes through {@link System.Logger}: the JDK's own facade,
 * which needs no dependency, reaches java.util.logging by default and SLF4J/Log4j when an application
 * installs their {@code System.LoggerFinder} bridge.
 */
final class BackendChoice {
    private static final System.Logger LOG = System.getLogger("dev.kiln.backend");
    /** Backends already reported as passed over in this JVM: the warning is said once, not per model. */
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private BackendChoice() {}

    static Backend auto() {
        String forced = System.getProperty(Backend.PROPERTY);
        if (forced != null && !forced.isBlank()) {
            Backend b = Backend.named(forced.trim());
            LOG.log(Level.INFO, "backend " + b.name() + " chosen by -D" + Backend.PROPERTY + "=" + forced);
            return b;
        }
        return choose(Backend.all());
    }

    /** The first usable backend of {@code candidates} (highest priority first), reporting the others. */
    static Backend choose(List<Backend> candidates) {
        Backend chosen = null;
        for (Backend b : candidates) {
            Availability a = b.availability();
            if (a.usable()) {
                if (chosen == null) {
                    chosen = b;
                    LOG.log(Level.DEBUG, () -> "backend " + b.name() + ": " + a.summary());
                }
            } else if (a.present()) {
                if (WARNED.add(b.name())) LOG.log(Level.WARNING, passedOver(b, a));
            } else {
                LOG.log(Level.DEBUG, () -> passedOver(b, a));
            }
        }
        if (chosen == null) throw new IllegalStateException("no usable backend found; add kiln-cpu to the class path");
        return chosen;
    }

    /** One line: which backend, why it was passed over, and each check (each check line names its fix). */
    static String passedOver(Backend b, Availability a) {
        return "backend " + b.name() + (a.present() ? " is present but not used: " : " is not available here: ") + a.summary()
                + "; checks: " + String.join("; ", a.checks());
    }
}
