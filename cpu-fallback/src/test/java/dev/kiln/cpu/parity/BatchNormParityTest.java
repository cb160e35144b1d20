package dev.kiln.cpu.parity;

import dev.kiln.autodiff.Autodiff;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.Transpose;
import dev.kiln.nn.BatchNormalization;
import dev.kiln.nn.CallContext;
import dev.kiln.nn.Input;
import dev.kiln.nn.Sequential;
import dev.kiln.testing.Fixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.cpu.parity.Parity.*;
import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch norm against PyTorch, training and inference, [N, C] and NHWC.
 *
 * <p>Training: Kiln's BatchNorm op takes the statistics as inputs, so training mode is the graph the
 * BatchNormalization layer builds: mean = mean(x, batch axes), var = mean((x - mean)², batch axes) (biased,
 * as PyTorch normalises), then batchNorm; autodiff differentiates through the statistics. Checked: y, dx,
 * dgamma, dbeta and the batch statistics themselves.
 *
 * <p>Moving statistics: Kiln follows Keras, new = old·m + batch·(1 - m) with momentum m (0.99 by default)
 * and the biased batch variance. PyTorch writes new = (1 - p)·old + p·batch with p = 0.1 and the unbiased
 * variance (n/(n-1)). The fixture's running stats are PyTorch's, so the test uses m = 1 - p = 0.9; the
 * running mean then matches directly, and the expected running variance is PyTorch's minus
 * p·(var_unbiased - var_biased) = running_var - p·var/(n-1).
 *
 * <p>Tolerances: the statistics are means over n = N·H·W values and every gradient is a sum over the same
 * n, so they get {@link Parity#sum} with k = n over the tensor's own scale (x is drawn as 2·randn + 0.5, so
 * the centred values that cancel are of the same size as the tensor).
 */
class BatchNormParityTest {
    static List<Arguments> training() { return Parity.cases("batchnorm_train_"); }
    static List<Arguments> inference() { return Parity.cases("batchnorm_infer_"); }

    private static int count(Fixture fx) { return fx.shape("x").size() / fx.shape("x").dim(-1); }

    private static Tol tol(Fixture fx, String tensor) { return sum(count(fx), scaleOf(fx.get(tensor))); }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("training")
    void trainingModeMatchesPyTorch(String name, Engine engine) {
        Fixture fx = Fixture.load(name);
        double eps = fx.doubleAttr("epsilon");
        Node x = in(fx, "x"), gamma = in(fx, "gamma"), beta = in(fx, "beta"), dy = in(fx, "dy");
        List<Integer> axes = Transpose.identity(x.shape().rank() - 1);
        Node mean = mean(x, axes, false);
        Node var = mean(square(sub(x, mean)), axes, false);
        Node y = batchNorm(x, mean, var, gamma, beta, eps);
        List<Node> grads = Autodiff.gradients(y, dy, List.of(x, gamma, beta));
        List<float[]> out = engine.run(new Graph(List.of(y, grads.get(0), grads.get(1), grads.get(2), mean, var), List.of()),
                List.of(x, gamma, beta, dy), List.of(fx.get("x"), fx.get("gamma"), fx.get("beta"), fx.get("dy")));

        String[] names = {"y", "dx", "dgamma", "dbeta", "mean", "var"};
        for (int i = 0; i < names.length; i++) check("batchnorm", engine, fx, names[i], out.get(i), tol(fx, names[i]));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("inference")
    void inferenceModeMatchesPyTorch(String name, Engine engine) {
        Fixture fx = Fixture.load(name);
        Node x = in(fx, "x"), rm = in(fx, "running_mean"), rv = in(fx, "running_var"),
                gamma = in(fx, "gamma"), beta = in(fx, "beta"), dy = in(fx, "dy");
        Node y = batchNorm(x, rm, rv, gamma, beta, fx.doubleAttr("epsilon"));
        List<Node> grads = Autodiff.gradients(y, dy, List.of(x, gamma, beta));
        List<float[]> out = engine.run(new Graph(List.of(y, grads.get(0), grads.get(1), grads.get(2)), List.of()),
                List.of(x, rm, rv, gamma, beta, dy),
                List.of(fx.get("x"), fx.get("running_mean"), fx.get("running_var"), fx.get("gamma"), fx.get("beta"), fx.get("dy")));

        // y and dx are a handful of roundings per element (y = x·a + b cancels near 0: floor at the
        // tensor's scale); dgamma and dbeta are sums over n
        check("batchnorm", engine, fx, "y", out.get(0), sum(4, scaleOf(fx.get("y"))));
        check("batchnorm", engine, fx, "dx", out.get(1), TIGHT);
        check("batchnorm", engine, fx, "dgamma", out.get(2), tol(fx, "dgamma"));
        check("batchnorm", engine, fx, "dbeta", out.get(3), tol(fx, "dbeta"));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("training")
    void layerMovesItsStatisticsWithKerasMomentum(String name, Engine engine) {
        Fixture fx = Fixture.load(name);
        double pytorchMomentum = fx.doubleAttr("momentum");
        int[] dims = fx.shape("x").dims();
        BatchNormalization bn = BatchNormalization.of().momentum(1 - pytorchMomentum).epsilon(fx.doubleAttr("epsilon"));
        Sequential.of(Input.shape(Arrays.copyOfRange(dims, 1, dims.length)), bn).build();
        bn.gamma().assign(fx.get("gamma"));
        bn.beta().assign(fx.get("beta"));
        bn.movingMean().assign(fx.get("running_mean_before"));
        bn.movingVariance().assign(fx.get("running_var_before"));

        CallContext ctx = new CallContext(true, null);
        Node x = in(fx, "x");
        Node y = bn.call(x, ctx);
        Engine.Runner runner = engine.runner(new Graph(List.of(y), ctx.updates()), List.of(x));
        float[] yOut = runner.run(List.of(fx.get("x"))).get(0);

        int n = count(fx);
        float[] var = fx.get("var"), torchRunningVar = fx.get("running_var"), expectedVar = new float[var.length];
        for (int c = 0; c < var.length; c++) expectedVar[c] = (float) (torchRunningVar[c] - pytorchMomentum * var[c] / (n - 1));

        check("batchnorm", engine, fx, "y", yOut, tol(fx, "y"));
        check("batchnorm", engine, fx, "running_mean", runner.variable(bn.movingMean()), tol(fx, "running_mean"));
        check("batchnorm", engine, name + "/moving_variance (PyTorch's running_var with the biased batch variance)",
                expectedVar, runner.variable(bn.movingVariance()), sum(n, scaleOf(expectedVar)));
        // the two conventions really differ here, so the conversion above is not a no-op
        double gap = 0;
        for (int c = 0; c < var.length; c++) gap = Math.max(gap, Math.abs(torchRunningVar[c] - expectedVar[c]));
        assertTrue(gap > 1e-3, "biased and unbiased running variances should differ, gap " + gap);
    }

    @AfterAll
    static void report() { Parity.report("batchnorm"); }
}
