package dev.kiln.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the course's CSV files ({@code shared/datasets/*.csv}). In a checkout the {@code shared/}
 * folder sits beside the repository root (CI clones the repository next to it), so it is found by
 * walking up from the working directory (then from the {@code kiln.root} system property, which
 * {@code ./kiln} sets to the repository root); {@code KILN_DATASETS} (environment variable or system
 * property) names the folder directly.
 *
 * <pre>{@code Table t = Csv.read(SharedDatasets.csv("auto_mpg")); }</pre>
 */
public final class SharedDatasets {
    public static final String ENV = "KILN_DATASETS";

    private SharedDatasets() {}

    /** The folder holding the CSV files, or an error listing where it looked and how to fix it. */
    public static Path dir() throws IOException {
        String given = System.getProperty(ENV, System.getenv(ENV));
        if (given != null && !given.isBlank()) {
            Path p = Path.of(given).toAbsolutePath();
            if (Files.isDirectory(p)) return p;
            throw new IOException(ENV + "=" + given + " is not a folder; point it at the folder holding auto_mpg.csv and the other course CSVs");
        }
        Path start = Path.of("").toAbsolutePath();
        String root = System.getProperty("kiln.root");   // set by ./kiln, so examples run from any folder
        for (Path from : root == null ? new Path[] {start} : new Path[] {start, Path.of(root).toAbsolutePath()}) {
            for (Path p = from; p != null; p = p.getParent()) {
                Path candidate = p.resolve("shared").resolve("datasets");
                if (Files.isDirectory(candidate)) return candidate;
            }
        }
        throw new IOException("the course datasets (shared/datasets/*.csv) were not found in " + start + (root == null ? "" : " or " + root)
                + " or any folder above;"
                + " put the shared/ folder beside the repository, or set " + ENV + " to the folder holding the CSV files");
    }

    /** {@code shared/datasets/<name>.csv}, checked to exist. */
    public static Path csv(String name) throws IOException {
        Path f = dir().resolve(name.endsWith(".csv") ? name : name + ".csv");
        if (!Files.isReadable(f)) throw new IOException(f + " is missing; the course needs it in " + dir());
        return f;
    }
}
