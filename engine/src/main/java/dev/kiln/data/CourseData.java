package dev.kiln.data;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The course's small tables, shipped inside Kiln (as {@code keras.datasets} ships its own):
 * {@code auto_mpg}, {@code breast_cancer}, {@code diabetes}, {@code digits_8x8} and {@code wine}.
 * Their origins and licences are in {@code README.md} beside the CSV files
 * ({@code engine/src/main/resources/dev/kiln/data/course/}). Nothing is downloaded.
 *
 * <p>{@code KILN_DATASETS} (environment variable or system property) names a folder to read them
 * from instead, for a user who keeps edited copies elsewhere.
 *
 * <pre>{@code Table t = Csv.read(CourseData.csv("auto_mpg")); }</pre>
 */
public final class CourseData {
    public static final String ENV = "KILN_DATASETS";
    /** The tables Kiln ships. */
    public static final List<String> NAMES = List.of("auto_mpg", "breast_cancer", "diabetes", "digits_8x8", "wine");
    private static final String RESOURCE_DIR = "course/";

    private CourseData() {}

    /**
     * The CSV file of the table {@code name} ("auto_mpg" or "auto_mpg.csv"), checked to exist. From the
     * {@code KILN_DATASETS} folder when that is set; else Kiln's own copy (inside a jar, copied once to a
     * temporary file that is removed when the JVM exits).
     */
    public static Path csv(String name) throws IOException {
        String file = name.endsWith(".csv") ? name : name + ".csv";
        String given = System.getProperty(ENV, System.getenv(ENV));
        if (given != null && !given.isBlank()) {
            Path dir = Path.of(given).toAbsolutePath();
            if (!Files.isDirectory(dir))
                throw new IOException(ENV + "=" + given + " is not a folder; point it at a folder holding " + file
                        + ", or unset it to use the copies shipped with Kiln");
            Path f = dir.resolve(file);
            if (!Files.isReadable(f)) throw new IOException(f + " is missing; " + ENV + " points at " + dir
                    + ", so the course reads " + file + " there (unset " + ENV + " to use Kiln's own copy)");
            return f;
        }
        URL url = CourseData.class.getResource(RESOURCE_DIR + file);
        if (url == null) throw new IOException("no course table named '" + name + "'; Kiln ships " + NAMES);
        if ("file".equals(url.getProtocol())) {
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IOException("cannot read " + url + ": " + e.getMessage(), e);
            }
        }
        return extracted(file, url);
    }

    private static synchronized Path extracted(String file, URL url) throws IOException {
        Path tmp = Files.createTempFile("kiln-" + file.replace(".csv", "") + "-", ".csv");
        tmp.toFile().deleteOnExit();
        try (InputStream in = url.openStream()) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        return tmp;
    }
}
