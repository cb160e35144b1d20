package dev.kiln.testing;

import dev.kiln.io.Safetensors;
import dev.kiln.tensor.Shape;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A PyTorch parity fixture from the test classpath ({@code fixtures/NAME.safetensors}, written by
 * bench/python/make_fixtures.py): named float32 tensors in Kiln layouts (NHWC, HWIO) and string attributes.
 * The engine's test-jar carries these, so other modules' tests can load them too.
 *
 * <pre>{@code
 * Fixture fx = Fixture.load("conv2d_stride2_valid");
 * float[] x = fx.get("x");                 // fx.shape("x") == [2, 7, 7, 3]
 * int stride = fx.intAttr("stride");
 * fx.assertClose("y", kilnOutput, 1e-5, 1e-6);
 * }</pre>
 */
public final class Fixture {
    private static final String FOLDER = "fixtures";
    private static final String SUFFIX = ".safetensors";

    private final String name;
    private final Safetensors.File file;

    private Fixture(String name, Safetensors.File file) {
        this.name = name;
        this.file = file;
    }

    public static Fixture load(String name) {
        String resource = FOLDER + "/" + name + SUFFIX;
        URL url = Fixture.class.getClassLoader().getResource(resource);
        if (url == null) throw new IllegalArgumentException("no fixture '" + name + "' on the test classpath (" + resource + "); run bench/python/make_fixtures.py; fixtures are " + names());
        try {
            if (url.getProtocol().equals("file")) return new Fixture(name, Safetensors.read(Path.of(url.toURI())));
            try (InputStream in = url.openStream()) {
                return new Fixture(name, Safetensors.read(url.toString(), in.readAllBytes()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(url + " is not a valid file URI", e);
        }
    }

    /** Every fixture on the test classpath, sorted, from a folder or from a jar. */
    public static List<String> names() {
        URL url = Fixture.class.getClassLoader().getResource(FOLDER);
        if (url == null) return List.of();
        List<String> out = new ArrayList<>();
        try {
            switch (url.getProtocol()) {
                case "file" -> {
                    try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
                        for (Path p : (Iterable<Path>) files::iterator) {
                            String f = p.getFileName().toString();
                            if (f.endsWith(SUFFIX)) out.add(f.substring(0, f.length() - SUFFIX.length()));
                        }
                    }
                }
                case "jar" -> {
                    JarURLConnection conn = (JarURLConnection) url.openConnection();
                    conn.setUseCaches(false);
                    try (JarFile jar = conn.getJarFile()) {
                        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                            String n = e.nextElement().getName();
                            if (n.startsWith(FOLDER + "/") && n.endsWith(SUFFIX) && n.indexOf('/', FOLDER.length() + 1) < 0) {
                                out.add(n.substring(FOLDER.length() + 1, n.length() - SUFFIX.length()));
                            }
                        }
                    }
                }
                default -> throw new IllegalStateException("cannot list fixtures at " + url);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(url + " is not a valid file URI", e);
        }
        out.sort(null);
        return out;
    }

    public String name() { return name; }

    /** Tensor names in file order. */
    public List<String> tensors() { return file.names(); }

    public boolean has(String tensor) { return file.contains(tensor); }

    public float[] get(String tensor) {
        try {
            return file.floats(tensor);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Shape shape(String tensor) {
        try {
            return file.shape(tensor);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Map<String, String> attrs() { return file.metadata(); }

    public String attr(String key) {
        String v = file.metadata().get(key);
        if (v == null) throw new IllegalArgumentException("fixture '" + name + "' has no attribute '" + key + "'; it has " + file.metadata().keySet());
        return v;
    }

    public int intAttr(String key) { return Integer.parseInt(attr(key)); }

    public double doubleAttr(String key) { return Double.parseDouble(attr(key)); }

    /** "true" or "false", as the generator writes Python booleans. */
    public boolean boolAttr(String key) {
        String v = attr(key);
        if (!v.equals("true") && !v.equals("false")) throw new IllegalArgumentException("fixture '" + name + "' attribute '" + key + "' is '" + v + "', not a boolean");
        return v.equals("true");
    }

    /** Compares {@code actual} with this fixture's tensor {@code expected}. */
    public void assertClose(String expected, float[] actual, double relTol, double absTol) {
        assertClose(name + "/" + expected, get(expected), actual, relTol, absTol);
    }

    /**
     * Fails unless every |actual - expected| <= absTol + relTol·|expected| (NaN matches only NaN), naming the
     * number of offending elements and the worst one (largest error relative to its tolerance) with both values.
     */
    public static void assertClose(String what, float[] expected, float[] actual, double relTol, double absTol) {
        if (expected.length != actual.length) fail(what + ": expected " + expected.length + " values, got " + actual.length);
        int bad = 0, worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            double excess;
            if (Double.isNaN(e) || Double.isNaN(a)) {
                excess = Double.isNaN(e) && Double.isNaN(a) ? 0 : Double.POSITIVE_INFINITY;
            } else if (e == a) {
                excess = 0; // also equal infinities
            } else {
                excess = Math.abs(a - e) / (absTol + relTol * Math.abs(e));
            }
            if (excess > 1) {
                bad++;
                if (excess > worstExcess) { worstExcess = excess; worst = i; }
            }
        }
        if (bad > 0) {
            double e = expected[worst], a = actual[worst];
            fail(String.format("%s: %d of %d values differ beyond rel %.1e + abs %.1e; worst at index %d: expected %s, actual %s (|diff| %.3e, tolerance %.3e)",
                    what, bad, expected.length, relTol, absTol, worst, e, a, Math.abs(a - e), absTol + relTol * Math.abs(e)));
        }
    }
}
