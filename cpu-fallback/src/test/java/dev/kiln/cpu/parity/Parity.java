package dev.kiln.cpu.parity;

import dev.kiln.graph.Node;
import dev.kiln.testing.Fixture;
import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import static dev.kiln.graph.Ops.input;

/**
 * Shared pieces of the PyTorch parity tests: fixture × engine case lists, inputs fed from fixtures,
 * tolerance-checked comparisons, and a per-family record of the worst errors seen (printed after each
 * test class, for the parity report).
 *
 * <p>Why relative 1e-5 cannot hold everywhere: the generator draws inputs in float64, computes in float64,
 * and rounds inputs and outputs to float32 separately. Kiln computes from the rounded inputs, so even the
 * exact result differs from the stored one by up to ~2^-24 · Σ|terms| for a sum of products; where terms
 * cancel, that is far more than 2^-24 of the (small) result. The same holds for float32 accumulation
 * (error ~ sqrt(K) · 2^-24 · Σ|terms| for K terms). Sums therefore get an absolute floor proportional to
 * the magnitude of their terms, stated per family; single-term results keep relative 1e-5.
 */
final class Parity {
    private Parity() {}

    /** |actual - expected| <= abs + rel·|expected|, with the reason for any floor. */
    record Tol(double rel, double abs, String why) {
        static Tol rel(double rel, String why) { return new Tol(rel, 0, why); }
    }

    /**
     * A sum of {@code k} products whose largest term is about {@code termScale}: relative 1e-5, plus an absolute
     * floor of 1e-6·sqrt(k)·termScale (about 16 float32 ulps of the largest term per sqrt(k) accumulation steps),
     * which covers input rounding and accumulation order where terms cancel and the result is near 0.
     */
    static Tol sum(int k, double termScale) {
        return new Tol(1e-5, 1e-6 * Math.sqrt(k) * termScale, "sum of " + k + " terms up to " + termScale);
    }

    /** The default: float32 rounding of a few operations. */
    static final Tol TIGHT = new Tol(1e-5, 1e-7, "a few float32 roundings");

    /** Worst errors per family and engine: relative (over values at least 1% of the tensor's largest) and absolute/max. */
    private static final Map<String, double[]> WORST = new ConcurrentHashMap<>();

    static List<Arguments> cases(String prefix) {
        List<Arguments> out = new ArrayList<>();
        for (String name : Fixture.names()) {
            if (!name.startsWith(prefix)) continue;
            for (Engine e : Engine.values()) out.add(Arguments.of(name, e));
        }
        if (out.isEmpty()) throw new IllegalStateException("no fixtures named " + prefix + "* on the classpath: " + Fixture.names());
        return out;
    }

    /**
     * (name, padding mode, engine) for fixtures with spatial padding: each with its explicit
     * amounts, and once more with the Keras mode ("same"/"valid") the fixture says they resolve to.
     */
    static List<Arguments> casesWithPaddingModes(String prefix) {
        List<Arguments> out = new ArrayList<>();
        for (Arguments a : cases(prefix)) {
            String name = (String) a.get()[0];
            out.add(Arguments.of(name, "explicit", a.get()[1]));
            String label = Fixture.load(name).attr("padding");
            if (!label.equals("explicit")) out.add(Arguments.of(name, label, a.get()[1]));
        }
        return out;
    }

    /** The padding of a case from {@link #casesWithPaddingModes}. */
    static dev.kiln.graph.Padding padding(Fixture fx, String mode) {
        return switch (mode) {
            case "same" -> dev.kiln.graph.Padding.SAME;
            case "valid" -> dev.kiln.graph.Padding.VALID;
            case "explicit" -> dev.kiln.graph.Padding.explicit(fx.intAttr("pad_top"), fx.intAttr("pad_bottom"), fx.intAttr("pad_left"), fx.intAttr("pad_right"));
            default -> throw new IllegalArgumentException("padding " + mode);
        };
    }

    static List<Arguments> cases(String... names) {
        List<Arguments> out = new ArrayList<>();
        for (String name : names) for (Engine e : Engine.values()) out.add(Arguments.of(name, e));
        return out;
    }

    /** An input node shaped like the fixture's tensor, named after it. */
    static Node in(Fixture fx, String tensor) { return input(tensor, fx.shape(tensor)); }

    /** Checks one output against the fixture and records its errors under {@code family}. */
    static void check(String family, Engine engine, Fixture fx, String tensor, float[] actual, Tol tol) {
        record(family, engine, fx.get(tensor), actual);
        fx.assertClose(tensor, actual, tol.rel(), tol.abs());
    }

    /** Same, against values computed in the test (e.g. a converted running variance). */
    static void check(String family, Engine engine, String what, float[] expected, float[] actual, Tol tol) {
        record(family, engine, expected, actual);
        Fixture.assertClose(what, expected, actual, tol.rel(), tol.abs());
    }

    private static void record(String family, Engine engine, float[] expected, float[] actual) {
        if (expected.length != actual.length) return; // assertClose reports it
        double max = 0;
        for (float e : expected) max = Math.max(max, Math.abs(e));
        double rel = 0, abs = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (Math.abs(expected[i]) >= 0.01 * max && expected[i] != 0) rel = Math.max(rel, d / Math.abs(expected[i]));
            if (max > 0) abs = Math.max(abs, d / max);
        }
        double r = rel, a = abs;
        WORST.merge(family + " " + engine.name().toLowerCase(), new double[] {r, a},
                (x, y) -> new double[] {Math.max(x[0], y[0]), Math.max(x[1], y[1])});
    }

    /** Prints the worst errors recorded for {@code family}; call from @AfterAll. */
    static void report(String family) {
        Map<String, double[]> sorted = new TreeMap<>();
        WORST.forEach((k, v) -> { if (k.startsWith(family + " ")) sorted.put(k, v); });
        sorted.forEach((k, v) -> System.out.printf("parity %-28s worst rel %.2e (values >= 1%% of max), worst |diff|/max %.2e%n", k, v[0], v[1]));
    }

    /** The largest magnitude in {@code v}: the scale an absolute floor is proportional to. */
    static double scaleOf(float[] v) {
        double max = 0;
        for (float x : v) max = Math.max(max, Math.abs(x));
        return max;
    }
}
