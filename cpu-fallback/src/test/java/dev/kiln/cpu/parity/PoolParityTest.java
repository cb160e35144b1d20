package dev.kiln.cpu.parity;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;
import dev.kiln.testing.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.cpu.parity.Parity.*;
import static dev.kiln.graph.Ops.pool2d;

/**
 * Max and average pooling (average excludes padding, as Keras and PyTorch's count_include_pad=False) and
 * their gradients against PyTorch, with explicit padding and with the Keras mode the fixture names.
 * Tolerances: max-pool y is a copy and avg-pool y a mean of at most window² values ({@link Parity#sum});
 * dx adds dy from every window that picked (max) or covers (avg) a position, so it is a sum too.
 */
class PoolParityTest {
    static List<Arguments> cases() {
        return Parity.casesWithPaddingModes("pool_");
    }

    @ParameterizedTest(name = "{0} ({1} padding) on {2}")
    @MethodSource("cases")
    void poolingAndGradientMatchPyTorch(String name, String paddingMode, Engine engine) {
        Fixture fx = Fixture.load(name);
        int k = fx.intAttr("window"), s = fx.intAttr("stride");
        Padding padding = Parity.padding(fx, paddingMode);
        Pool2d.Kind kind = switch (fx.attr("kind")) {
            case "max" -> Pool2d.Kind.MAX;
            case "avg" -> Pool2d.Kind.AVG;
            default -> throw new IllegalArgumentException("kind " + fx.attr("kind"));
        };
        Node x = in(fx, "x"), dy = in(fx, "dy");
        Node y = pool2d(x, new Pool2d(kind, k, k, s, s, padding));
        Node dx = Autodiff.gradients(y, dy, List.of(x)).get(0);
        List<float[]> out = engine.run(new Graph(List.of(y, dx), List.of()), List.of(x, dy), List.of(fx.get("x"), fx.get("dy")));

        // windows overlapping one input position: ceil(k / s) per axis
        int overlap = (k + s - 1) / s;
        check("pool", engine, fx, "y", out.get(0), sum(k * k, scaleOf(fx.get("x"))));
        check("pool", engine, fx, "dx", out.get(1), sum(overlap * overlap, scaleOf(fx.get("dy"))));
    }

    @AfterAll
    static void report() { Parity.report("pool"); }
}
