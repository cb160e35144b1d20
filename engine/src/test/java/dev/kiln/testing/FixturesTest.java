package dev.kiln.testing;

import dev.kiln.graph.BatchNorm;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Padding;
import dev.kiln.graph.Pool2d;
import dev.kiln.graph.SoftmaxCrossEntropy;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.AssertionFailedError;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every fixture file is well formed and agrees with Kiln's shape rules for its recorded attributes, so a parity
 * test that fails points at a kernel, not at the fixture. Tolerances: stored values are float64 results rounded
 * to float32, so identities recomputed here in double hold to ~1e-6 relative.
 */
class FixturesTest {
    private static final double REL = 1e-5, ABS = 1e-6;

    static List<String> fixtures() { return Fixture.names(); }

    @Test
    void theGeneratedSetIsOnTheClasspath() {
        List<String> names = Fixture.names();
        assertTrue(names.size() >= 31, "expected the 31 generated fixtures, found " + names);
        for (String n : List.of("matmul_broadcast", "conv2d_groups2", "pool_max_3x3_s2_p1", "batchnorm_train_nhwc",
                "softmax_cross_entropy", "bce_probs", "optim_adamw", "optim_sgd_nesterov")) {
            assertTrue(names.contains(n), n + " missing from " + names);
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void fixtureIsConsistentWithKilnShapeRules(String name) {
        Fixture fx = Fixture.load(name);
        assertFalse(fx.attr("torch_version").isEmpty());
        switch (fx.attr("op")) {
            case "matmul" -> checkMatMul(fx);
            case "conv2d" -> checkConv2d(fx);
            case "pool2d" -> checkPool2d(fx);
            case "batch_norm" -> checkBatchNorm(fx);
            case "softmax_cross_entropy" -> checkSoftmaxCrossEntropy(fx);
            case "bce_logits" -> sameShapes(fx, "logits", "targets", "loss", "dlogits");
            case "bce_probs" -> sameShapes(fx, "probs", "targets", "loss", "dprobs");
            case "optimizer" -> checkOptimizer(fx);
            default -> fail(name + ": no check for op '" + fx.attr("op") + "'");
        }
    }

    private static void sameShapes(Fixture fx, String reference, String... others) {
        for (String o : others) assertEquals(fx.shape(reference), fx.shape(o), fx.name() + ": " + o + " vs " + reference);
    }

    private static void checkMatMul(Fixture fx) {
        MatMul op = new MatMul(fx.boolAttr("transpose_a"), fx.boolAttr("transpose_b"));
        assertEquals(op.inferShape(List.of(fx.shape("a"), fx.shape("b"))), fx.shape("y"));
        sameShapes(fx, "y", "dy");
        sameShapes(fx, "a", "da");
        sameShapes(fx, "b", "db");
    }

    private static void checkConv2d(Fixture fx) {
        int s = fx.intAttr("stride"), d = fx.intAttr("dilation"), g = fx.intAttr("groups");
        Padding explicit = Padding.explicit(fx.intAttr("pad_top"), fx.intAttr("pad_bottom"), fx.intAttr("pad_left"), fx.intAttr("pad_right"));
        ConvGeometry geo = new Conv2d(s, s, explicit, d, d, g).geometry(fx.shape("x"), fx.shape("w"));
        assertEquals(geo.outputShape(), fx.shape("y"), fx.name());
        assertEquals(geo.filterShape(), fx.shape("w"), fx.name());
        sameShapes(fx, "y", "dy");
        sameShapes(fx, "x", "dx");
        sameShapes(fx, "w", "dw");
        // the label says which Keras padding the explicit amounts reproduce
        switch (fx.attr("padding")) {
            case "same" -> {
                ConvGeometry same = new Conv2d(s, s, Padding.SAME, d, d, g).geometry(fx.shape("x"), fx.shape("w"));
                assertEquals(geo, same, fx.name() + ": SAME padding resolves to the recorded amounts");
            }
            case "valid" -> {
                ConvGeometry valid = new Conv2d(s, s, Padding.VALID, d, d, g).geometry(fx.shape("x"), fx.shape("w"));
                assertEquals(geo, valid, fx.name());
            }
            case "explicit" -> { }
            default -> fail(fx.name() + ": padding label " + fx.attr("padding"));
        }
    }

    private static void checkPool2d(Fixture fx) {
        int k = fx.intAttr("window"), s = fx.intAttr("stride");
        Pool2d.Kind kind = switch (fx.attr("kind")) {
            case "max" -> Pool2d.Kind.MAX;
            case "avg" -> Pool2d.Kind.AVG;
            default -> throw new AssertionFailedError(fx.name() + ": kind " + fx.attr("kind"));
        };
        Padding explicit = Padding.explicit(fx.intAttr("pad_top"), fx.intAttr("pad_bottom"), fx.intAttr("pad_left"), fx.intAttr("pad_right"));
        Shape y = new Pool2d(kind, k, k, s, s, explicit).inferShape(List.of(fx.shape("x")));
        assertEquals(y, fx.shape("y"), fx.name());
        switch (fx.attr("padding")) {
            case "valid" -> assertEquals(y, new Pool2d(kind, k, k, s, s, Padding.VALID).inferShape(List.of(fx.shape("x"))), fx.name());
            case "same" -> assertEquals(new Pool2d(kind, k, k, s, s, explicit).geometry(fx.shape("x")),
                    new Pool2d(kind, k, k, s, s, Padding.SAME).geometry(fx.shape("x")), fx.name() + ": SAME resolves to the recorded amounts");
            case "explicit" -> { }
            default -> fail(fx.name() + ": padding label " + fx.attr("padding"));
        }
        assertFalse(fx.boolAttr("count_include_pad"), "Kiln's average pool excludes padding");
        sameShapes(fx, "y", "dy");
        sameShapes(fx, "x", "dx");
    }

    private static void checkBatchNorm(Fixture fx) {
        Shape x = fx.shape("x");
        Shape c = Shape.of(x.dim(-1));
        BatchNorm op = new BatchNorm(fx.doubleAttr("epsilon"));
        assertEquals(x, op.inferShape(List.of(x, c, c, c, c)));
        sameShapes(fx, "x", "y", "dy", "dx");
        for (String t : List.of("gamma", "beta", "running_mean", "running_var", "dgamma", "dbeta")) assertEquals(c, fx.shape(t), fx.name() + ": " + t);
        if (!fx.boolAttr("training")) return;
        // the recorded batch statistics are those of x, and the running update follows the recorded convention
        int channels = c.size(), n = x.size() / channels;
        assertEquals(n, fx.intAttr("count"));
        float[] xs = fx.get("x");
        float[] mean = new float[channels], biased = new float[channels], runMean = new float[channels], runVar = new float[channels];
        float[] rm0 = fx.get("running_mean_before"), rv0 = fx.get("running_var_before");
        double momentum = fx.doubleAttr("momentum");
        assertEquals("unbiased", fx.attr("running_var"));
        for (int ch = 0; ch < channels; ch++) {
            double sum = 0, sq = 0;
            for (int i = 0; i < n; i++) sum += xs[i * channels + ch];
            double m = sum / n;
            for (int i = 0; i < n; i++) sq += (xs[i * channels + ch] - m) * (xs[i * channels + ch] - m);
            mean[ch] = (float) m;
            biased[ch] = (float) (sq / n);
            runMean[ch] = (float) ((1 - momentum) * rm0[ch] + momentum * m);
            runVar[ch] = (float) ((1 - momentum) * rv0[ch] + momentum * sq / (n - 1));
        }
        Fixture.assertClose(fx.name() + "/mean", fx.get("mean"), mean, REL, ABS);
        Fixture.assertClose(fx.name() + "/var", fx.get("var"), biased, REL, ABS);
        Fixture.assertClose(fx.name() + "/running_mean", fx.get("running_mean"), runMean, REL, ABS);
        Fixture.assertClose(fx.name() + "/running_var", fx.get("running_var"), runVar, REL, ABS);
    }

    private static void checkSoftmaxCrossEntropy(Fixture fx) {
        Shape logits = fx.shape("logits");
        assertEquals(fx.shape("loss"), new SoftmaxCrossEntropy().inferShape(List.of(logits, fx.shape("labels_onehot"))));
        assertEquals(Shape.SCALAR, fx.shape("loss_mean"));
        sameShapes(fx, "logits", "dlogits", "softmax", "log_softmax", "labels_soft", "dlogits_soft");
        int n = logits.dim(0), c = logits.dim(1);
        float[] labels = fx.get("labels"), onehot = fx.get("labels_onehot"), softmax = fx.get("softmax");
        for (int i = 0; i < n; i++) {
            double rowSum = 0;
            for (int j = 0; j < c; j++) {
                assertEquals(j == (int) labels[i] ? 1f : 0f, onehot[i * c + j], fx.name() + ": one-hot row " + i);
                rowSum += softmax[i * c + j];
            }
            assertEquals(1.0, rowSum, 1e-6, fx.name() + ": softmax row " + i + " sums to 1");
        }
    }

    private static void checkOptimizer(Fixture fx) {
        int steps = fx.intAttr("steps");
        for (String t : fx.tensors()) assertEquals(fx.shape("param0"), fx.shape(t), fx.name() + ": " + t);
        String[] state = switch (fx.attr("kind")) {
            case "adam", "adamw" -> new String[] {"m", "v"};
            case "sgd" -> new String[] {"velocity"};
            case "rmsprop" -> new String[] {"square_avg"};
            default -> throw new AssertionFailedError(fx.name() + ": kind " + fx.attr("kind"));
        };
        for (int t = 1; t <= steps; t++) {
            assertTrue(fx.has("g" + t) && fx.has("param" + t), fx.name() + ": step " + t);
            for (String s : state) assertTrue(fx.has(s + t), fx.name() + ": " + s + t);
        }
        // PyTorch starts the momentum buffer at the first gradient, which is what v = μ·0 + g gives
        if (fx.attr("kind").equals("sgd")) Fixture.assertClose(fx.name() + "/velocity1", fx.get("g1"), fx.get("velocity1"), 0, 0);
    }

    @Test
    void assertCloseReportsTheWorstElement() {
        float[] expected = {1, 2, 3, 4};
        Fixture.assertClose("equal within tolerance", expected, new float[] {1, 2.00001f, 3, 4}, 1e-5, 0);
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> Fixture.assertClose("t", expected, new float[] {1.1f, 2, 3, 3.5f}, 1e-3, 1e-6));
        assertTrue(e.getMessage().contains("2 of 4 values differ") && e.getMessage().contains("worst at index 3")
                && e.getMessage().contains("expected 4.0, actual 3.5"), e.getMessage());
        assertThrows(AssertionFailedError.class, () -> Fixture.assertClose("nan", new float[] {1}, new float[] {Float.NaN}, 1, 1));
        assertThrows(AssertionFailedError.class, () -> Fixture.assertClose("length", new float[] {1}, new float[] {1, 2}, 1, 1));
    }

    @Test
    void missingFixturesAndAttributesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Fixture.load("no_such_case"));
        assertTrue(e.getMessage().contains("no_such_case") && e.getMessage().contains("conv2d_3x3_same"), e.getMessage());
        Fixture fx = Fixture.load("conv2d_3x3_same");
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> fx.attr("nope"));
        assertTrue(a.getMessage().contains("stride"), a.getMessage());
    }
}
