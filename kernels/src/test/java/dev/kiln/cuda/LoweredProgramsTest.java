package dev.kiln.cuda;

import dev.kiln.compile.Compiler;
import dev.kiln.compile.Instruction;
import dev.kiln.compile.Program;
import dev.kiln.cuda.emu.EmulatedCuda;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.emu.Nvcc;
import dev.kiln.graph.Fused;
import dev.kiln.graph.Graph;
import dev.kiln.graph.InvertedDropout;
import dev.kiln.graph.Linear;
import dev.kiln.graph.Node;
import dev.kiln.graph.Ops;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Programs compiled by the standard pipeline, lowered to the CUDA backend and run on the emulated
 * device, against the CPU backend on the same inputs: fused elementwise chains (the generator),
 * broadcasting, special values, reductions over any axes, movement ops, softmax, GEMMs with
 * transposes and batches, the Linear epilogue, dropout masks, convolutions with fused epilogues and pooling.
 *
 * <p>Tolerances: exact for ops whose float operations the generated kernel performs in the CPU twin's
 * order (add/sub/mul/div chains, comparisons, max/min, movement, dropout masks, row-order sums);
 * relative 1e-5 (+1e-6 absolute) where CUDA's expf/logf/tanhf/powf (within 2 ulp) replace Java's
 * Math functions (1 ulp) or where the GEMM adds in another order than the CPU's blocked GEMM (a
 * k-term float sum differs by at most ~k·2^-24 relative; k <= 64 here).
 */
class LoweredProgramsTest {
    private EmulatedCuda cuda;
    private final Random random = new Random(21);

    @BeforeEach void start() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        cuda = new EmulatedCuda();
    }

    @AfterEach void stop() { if (cuda != null) cuda.close(); }

    private float[] gaussian(Shape s) {
        float[] x = new float[s.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    private static Program compile(Node... outputs) {
        return Compiler.compile(Graph.of(outputs));
    }

    private float[][][] check(Program p, Map<String, float[]> feeds, double rel, double abs) {
        float[][][] r = ProgramParity.run(p, cuda, feeds);
        for (int o = 0; o < r[0].length; o++) ProgramParity.assertClose("output " + o, r[0][o], r[1][o], rel, abs);
        EmulatedDevice.CASES.incrementAndGet();
        return r;
    }

    private static long fused(Program p) { return p.instructions().stream().filter(i -> i.op() instanceof Fused).count(); }

    @Test
    void fusedChainsWithBroadcastMatchTheCpuExactlyWithoutTranscendentals() {
        Shape s = Shape.of(7, 13);
        Node x = input("x", s), b = input("b", Shape.of(13)), c = input("c", Shape.of(7, 1));
        // (x + b) * c - x / (c + 3), max with b, min with x, compared and selected: one fused chain
        Node y = minimum(maximum(sub(mul(add(x, b), c), div(x, add(c, scalar(3)))), b), x);
        Node z = where(greater(y, scalar(0)), mul(y, y), neg(y));
        Program p = compile(z);
        assertTrue(fused(p) >= 1, p.dump());
        Map<String, float[]> feeds = new LinkedHashMap<>();
        feeds.put("x", gaussian(s));
        feeds.put("b", gaussian(Shape.of(13)));
        feeds.put("c", gaussian(Shape.of(7, 1)));
        float[] xv = feeds.get("x");
        xv[0] = Float.NaN; xv[1] = Float.POSITIVE_INFINITY; xv[2] = -0f; xv[3] = 0f; xv[4] = Float.NEGATIVE_INFINITY;
        check(p, feeds, 0, 0);
    }

    @Test
    void fusedChainsWithTranscendentalsAndLossesMatchTheCpuToAFewUlp() {
        Shape s = Shape.of(5, 3, 11);
        Node x = input("x", s), t = input("t", Shape.of(3, 1)), p = input("p", s);
        Node a = add(sigmoid(mul(x, t)), tanh(x));
        Node b = sub(exp(neg(abs(x))), log(add(abs(x), scalar(1))));
        Node losses = add(bceWithLogits(x, sigmoid(t)), bce(sigmoid(p), sigmoid(x)));
        Node c = mul(sqrt(add(abs(x), scalar(0.5))), rsqrt(add(mul(x, x), scalar(1))));
        Node d = add(pow(add(abs(x), scalar(1)), t), mul(sign(x), relu(x)));
        Program prog = compile(a, b, losses, c, d);
        assertTrue(fused(prog) >= 4, prog.dump());
        Map<String, float[]> feeds = new LinkedHashMap<>();
        feeds.put("x", gaussian(s));
        feeds.put("t", gaussian(Shape.of(3, 1)));
        feeds.put("p", gaussian(s));
        check(prog, feeds, 1e-5, 1e-6);
    }

    @Test
    void reductionsOverAnyAxesMatchTheCpu() {
        Shape s = Shape.of(4, 5, 6);
        Node x = input("x", s);
        Program p = compile(sum(x, List.of(0), false), mean(x, List.of(0, 2), false), Ops.max(x, List.of(1), true),
                sumAll(x), mean(x, List.of(1, 2), false), Ops.max(x, List.of(0, 1, 2), false));
        Map<String, float[]> feeds = Map.of("x", gaussian(s));
        // sums in the CPU scalar twin's order, but the CPU's vector kernels add in lanes: a few ulp
        check(p, feeds, 1e-5, 1e-6);
    }

    @Test
    void movementOpsMatchTheCpuExactly() {
        Node x = input("x", Shape.of(3, 4, 5)), r = input("r", Shape.of(4, 1));
        Node t = transpose(x, List.of(2, 0, 1));
        Node sl = slice(x, List.of(1, 0, 2), List.of(3, 3, 5));
        Node cat = concat(1, List.of(x, sl.shape().dim(1) == 3 ? slice(x, List.of(0, 0, 0), List.of(3, 2, 5)) : x));
        Node pd = pad(x, List.of(1, 0, 2), List.of(0, 2, 1), -1.5);
        Node bc = broadcastTo(r, Shape.of(3, 4, 5));
        Program p = Compiler.compile(Graph.of(t, sl, cat, pd, bc), Compiler.Options.defaults().withPasses(List.of()));
        Map<String, float[]> feeds = new LinkedHashMap<>();
        feeds.put("x", gaussian(Shape.of(3, 4, 5)));
        feeds.put("r", gaussian(Shape.of(4, 1)));
        check(p, feeds, 0, 0);
    }

    @Test
    void softmaxLogSoftmaxAndCrossEntropyMatchTheCpu() {
        Shape s = Shape.of(9, 37);
        Node z = input("z", s), l = input("l", s);
        Program p = compile(softmax(z), logSoftmax(z), softmaxCrossEntropy(z, l));
        Map<String, float[]> feeds = new LinkedHashMap<>();
        feeds.put("z", gaussian(s));
        float[] labels = new float[s.size()];
        for (int r = 0; r < 9; r++) labels[r * 37 + random.nextInt(37)] = 1f;
        feeds.put("l", labels);
        check(p, feeds, 1e-5, 1e-6);
    }

    @Test
    void gemmsWithTransposesBatchesAndTheLinearEpilogueMatchTheCpu() {
        Node a = input("a", Shape.of(19, 23)), b = input("b", Shape.of(23, 17)), at = input("at", Shape.of(23, 19)), bt = input("bt", Shape.of(17, 23));
        Node ba = input("ba", Shape.of(3, 5, 7)), bb = input("bb", Shape.of(7, 4)), bias = input("bias", Shape.of(17));
        Node linear = relu(add(matmul(a, b), bias));
        Program p = compile(matmul(at, b, true, false), matmul(a, bt, false, true), matmul(at, bt, true, true), matmul(ba, bb), linear);
        assertTrue(p.instructions().stream().anyMatch(i -> i.op() instanceof Linear l && l.activation() == dev.kiln.graph.Epilogue.Activation.RELU), p.dump());
        Map<String, float[]> feeds = new LinkedHashMap<>();
        for (Node n : List.of(a, b, at, bt, ba, bb, bias)) feeds.put(((dev.kiln.graph.Placeholder) n.op()).inputName(), gaussian(n.shape()));
        check(p, feeds, 1e-5, 1e-5);
        assertTrue(cuda.gemm.calls() >= 6, "GEMMs went through the Sgemm interface: " + cuda.gemm.calls());
    }

    @Test
    void dropoutMasksAreBitIdenticalToTheCpu() {
        Shape s = Shape.of(33, 17);
        Node x = input("x", s), step = input("step", Shape.SCALAR);
        InvertedDropout op = new InvertedDropout(0.3, 0x1234_5678_9abcL);
        Program p = compile(dropout(x, step, op));
        Map<String, float[]> feeds = new LinkedHashMap<>();
        feeds.put("x", gaussian(s));
        for (float t : new float[] {1, 2, 77}) {
            feeds.put("step", new float[] {t});
            float[][][] r = check(p, feeds, 0, 0);
            int dropped = 0;
            for (float v : r[1][0]) if (v == 0f) dropped++;
            assertTrue(dropped > s.size() / 5 && dropped < s.size() / 2, "about 30% dropped at step " + t + ": " + dropped);
        }
    }

    @Test
    void convolutionsWithFusedEpiloguesGroupsAndPoolingMatchTheCpu() {
        Node x = input("x", Shape.of(2, 7, 6, 4)), w = input("w", Shape.of(3, 3, 4, 5)), b = input("b", Shape.of(5));
        Node dw = input("dw", Shape.of(1, 1, 2, 6)), db = input("db", Shape.of(6));
        Node tanhConv = tanh(add(conv2d(x, w, dev.kiln.graph.Conv2d.of(2, dev.kiln.graph.Padding.SAME)), b));
        Node grouped = sigmoid(add(conv2d(x, dw, new dev.kiln.graph.Conv2d(1, 1, dev.kiln.graph.Padding.VALID, 1, 1, 2)), db));
        Node maxPool = pool2d(tanhConv, new dev.kiln.graph.Pool2d(dev.kiln.graph.Pool2d.Kind.MAX, 3, 3, 2, 2, dev.kiln.graph.Padding.SAME));
        Node avgPool = pool2d(grouped, new dev.kiln.graph.Pool2d(dev.kiln.graph.Pool2d.Kind.AVG, 2, 2, 2, 2, dev.kiln.graph.Padding.SAME));
        Node z = input("z", Shape.of(1, 8, 8, 16)), pw = input("pw", Shape.of(1, 1, 16, 64));
        Node pointwise = conv2d(z, pw, dev.kiln.graph.Conv2d.of(1, dev.kiln.graph.Padding.VALID));   // 64 pixels x 64 filters: the 64x64 tiles
        Program p = compile(maxPool, avgPool, pointwise);
        assertEquals(2, p.instructions().stream().filter(i -> i.op() instanceof dev.kiln.graph.ConvBias).count(), p.dump());
        Map<String, float[]> feeds = new LinkedHashMap<>();
        for (Node n : List.of(x, w, b, dw, db, z, pw)) feeds.put(((dev.kiln.graph.Placeholder) n.op()).inputName(), gaussian(n.shape()));
        // the convolutions add in another order than the CPU's GEMM or Winograd kernels; tanhf/expf within 2 ulp
        check(p, feeds, 1e-5, 1e-6);
    }

    @Test
    void aGemmWhoseOperandBroadcastsOverPartOfTheBatchFailsNamingTheOpAndTheBackend() {
        Node a = input("a", Shape.of(2, 3, 4, 5)), b = input("b", Shape.of(3, 5, 6));
        Node product = matmul(a, b);
        Program p = Compiler.compile(Graph.of(product), Compiler.Options.defaults().withPasses(List.of()));
        var e = assertThrows(UnsupportedOperationException.class, () -> cuda.backend.compile(p));
        assertTrue(e.getMessage().contains("CUDA backend does not lower"), e.getMessage());
        assertTrue(e.getMessage().contains("CPU backend"), e.getMessage());
    }

    @Test
    void generatedKernelsOfOneProgramAreOneTranslationUnitAndEqualKernelsAreEmittedOnce() {
        KernelGenerator g = new KernelGenerator();
        Shape s = Shape.of(8, 3);
        String a = g.single(new dev.kiln.graph.Unary(dev.kiln.graph.UnaryFn.EXP), List.of(s), s);
        String b = g.single(new dev.kiln.graph.Unary(dev.kiln.graph.UnaryFn.EXP), List.of(s), s);
        String c = g.single(new dev.kiln.graph.Unary(dev.kiln.graph.UnaryFn.LOG), List.of(s), s);
        assertEquals(a, b);
        assertTrue(!a.equals(c));
        assertEquals(2, g.source().split("__global__").length - 1, g.source());
    }
}
