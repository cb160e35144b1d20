package dev.kiln.cpu.parity;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Padding;
import dev.kiln.testing.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static dev.kiln.cpu.parity.Parity.*;
import static dev.kiln.graph.Ops.conv2d;

/**
 * Conv2d forward, backward-data and backward-filter against PyTorch (NHWC/HWIO fixtures) for strides,
 * SAME/VALID/asymmetric padding, dilation, groups, a rectangular kernel and 1x1. Each case runs with the
 * fixture's explicit padding and, where the fixture says the amounts are what Keras SAME or VALID resolve
 * to, once more with that Keras mode, so the geometry Kiln derives is checked too.
 * Tolerances: every output is a sum of products ({@link Parity#sum} with its own term count).
 */
class Conv2dParityTest {
    static List<Arguments> cases() {
        return Parity.casesWithPaddingModes("conv2d_");
    }

    @ParameterizedTest(name = "{0} ({1} padding) on {2}")
    @MethodSource("cases")
    void convolutionAndGradientsMatchPyTorch(String name, String paddingMode, Engine engine) {
        Fixture fx = Fixture.load(name);
        int s = fx.intAttr("stride"), d = fx.intAttr("dilation"), groups = fx.intAttr("groups");
        Padding padding = Parity.padding(fx, paddingMode);
        Conv2d op = new Conv2d(s, s, padding, d, d, groups);
        Node x = in(fx, "x"), w = in(fx, "w"), dy = in(fx, "dy");
        Node y = conv2d(x, w, op);
        List<Node> grads = Autodiff.gradients(y, dy, List.of(x, w));
        List<float[]> out = engine.run(new Graph(List.of(y, grads.get(0), grads.get(1)), List.of()),
                List.of(x, w, dy), List.of(fx.get("x"), fx.get("w"), fx.get("dy")));

        int kh = w.shape().dim(0), kw = w.shape().dim(1), cg = w.shape().dim(2), f = w.shape().dim(3);
        int n = y.shape().dim(0), oh = y.shape().dim(1), ow = y.shape().dim(2);
        double sx = scaleOf(fx.get("x")), sw = scaleOf(fx.get("w")), sdy = scaleOf(fx.get("dy"));
        String family = "conv2d";
        check(family, engine, fx, "y", out.get(0), sum(kh * kw * cg, sx * sw));
        check(family, engine, fx, "dx", out.get(1), sum(kh * kw * (f / groups), sdy * sw));
        check(family, engine, fx, "dw", out.get(2), sum(n * oh * ow, sx * sdy));
    }

    @AfterAll
    static void report() { Parity.report("conv2d"); }
}
