package dev.kiln.cli;

import dev.kiln.backend.Availability;
import dev.kiln.backend.Backend;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * {@code ./kiln doctor}: what Kiln sees on this machine — the JVM, the CPU and its vector
 * extensions, the Vector API, and every backend with the checks that make it usable or not.
 * Exits 0 when some backend is usable, 2 when none is.
 */
public final class Doctor {
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    static final List<String> CPU_FLAGS = List.of("avx2", "avx512f", "avx512bw", "fma");

    private Doctor() {}

    public static void main(String[] args) {
        System.exit(report(System.out, Path.of("/proc/cpuinfo")) ? 0 : 2);
    }

    /** Writes the report; true when {@link Backend#auto()} finds a usable backend. */
    static boolean report(PrintStream out, Path cpuinfo) {
        out.println("Kiln doctor");
        out.println();
        out.println("Java");
        out.println("  version  " + System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vendor")
                + (System.getProperty("java.vendor.version") == null ? "" : ", " + System.getProperty("java.vendor.version")) + ")");
        out.println("  home     " + System.getProperty("java.home"));
        out.println();

        out.println("Machine");
        out.println("  cores    " + Runtime.getRuntime().availableProcessors() + " available to the JVM");
        String physical = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? gib(os.getTotalMemorySize()) + " physical, " : "";
        out.println("  memory   " + physical + gib(Runtime.getRuntime().maxMemory()) + " max heap");
        cpu(out, cpuinfo);
        out.println();

        out.println("Vector API");
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent()) {
            out.println("  " + VECTOR_MODULE + " loaded; " + VectorSpecies.describe());
        } else {
            out.println("  " + VECTOR_MODULE + " not loaded: CPU kernels use their scalar twins; "
                    + "fix: start java with --add-modules " + VECTOR_MODULE + " (./kiln does)");
        }
        out.println();

        out.println("Backends");
        List<Backend> all = Backend.all();
        if (all.isEmpty()) out.println("  none on the class path (kiln-cpu and kiln-cuda register through META-INF/services)");
        for (Backend b : all) {
            Availability a = b.availability();
            out.println("  " + b.name() + " (priority " + b.priority() + "): " + (a.usable() ? "usable" : "not usable") + " - " + a.summary());
            for (String check : a.checks()) out.println("      " + check);
        }
        out.println();

        try {
            Backend chosen = Backend.auto();
            out.println("Backend.auto() picks: " + chosen.name());
            return true;
        } catch (IllegalStateException noneUsable) {
            out.println("Backend.auto() picks nothing: " + noneUsable.getMessage());
            return false;
        }
    }

    private static void cpu(PrintStream out, Path cpuinfo) {
        List<String> lines;
        try {
            lines = Files.readAllLines(cpuinfo);
        } catch (IOException e) {
            out.println("  cpu      unknown: cannot read " + cpuinfo + " (" + e.getMessage() + "; not Linux?)");
            return;
        }
        out.println("  cpu      " + field(lines, "model name").orElse("unknown (no 'model name' in " + cpuinfo + ")"));
        Optional<String> flags = field(lines, "flags");
        if (flags.isEmpty()) {
            out.println("  flags    unknown (no 'flags' in " + cpuinfo + ")");
            return;
        }
        List<String> present = Arrays.asList(flags.get().split("\\s+"));
        List<String> shown = new ArrayList<>();
        for (String f : CPU_FLAGS) shown.add(f + (present.contains(f) ? " yes" : " no"));
        out.println("  flags    " + String.join(", ", shown));
    }

    /** The value of the first "key : value" line whose key is {@code key}. */
    static Optional<String> field(List<String> lines, String key) {
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(key)) return Optional.of(line.substring(colon + 1).trim());
        }
        return Optional.empty();
    }

    private static String gib(long bytes) {
        return String.format("%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }

    /**
     * The only code here that links jdk.incubator.vector; it is loaded only after the module is
     * known to be present, so the doctor still runs (and says what is missing) without it.
     */
    private static final class VectorSpecies {
        static String describe() {
            var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
            return "FloatVector.SPECIES_PREFERRED = " + species + ": " + species.vectorBitSize() + " bits, "
                    + species.length() + " float lanes";
        }
    }
}
