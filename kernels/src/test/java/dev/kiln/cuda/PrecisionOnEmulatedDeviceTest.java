package dev.kiln.cuda;

import dev.kiln.compile.Compiler;
import dev.kiln.compile.Precision;
import dev.kiln.compile.Program;
import dev.kiln.cuda.emu.EmulatedCuda;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.emu.Nvcc;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.UnaryFn;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static dev.kiln.graph.Ops.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Precision on the emulated device: the generated rounding kernels agree with the CPU's bit for bit, and a
 * program's precision reaches the GEMM (cuBLAS's TF32 tensor-op math, which the reference GEMM emulates by
 * rounding its operands). GEMM tolerance: a 64-term float sum in another order, 64·2^-24 relative at most.
 */
class PrecisionOnEmulatedDeviceTest {
    private static final double SUM_ORDER = 64 * 0x1p-24;
    private EmulatedCuda cuda;
    private final Random random = new Random(16);

    @BeforeEach void start() {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        cuda = new EmulatedCuda();
    }

    @AfterEach void stop() { if (cuda != null) cuda.close(); }

    private float[] gaussian(int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) (random.nextGaussian() * scale);
        return x;
    }

    @Test
    void roundingKernelsMatchTheCpuBitForBitOnEdgeValues() {
        Shape s = Shape.of(4, 16);
        Node x = input("x", s);
        // alone and fused into a chain, as the AutoCast pass leaves them before elementwise fusion
        Program p = Compiler.compile(Graph.of(unary(UnaryFn.ROUND_BF16, x), unary(UnaryFn.ROUND_FP16, x), unary(UnaryFn.ROUND_TF32, x),
                unary(UnaryFn.ROUND_FP16, mul(x, scalar(3)))));
        float[] xv = gaussian(s.size(), 1e3);
        float[] edges = {0f, -0f, 65504f, 65519.99f, 65520f, -65520f, 0x1p-24f, 0x1p-25f, 3 * 0x1p-25f, -0x1p-26f, 0x1.ff8p-15f,
                1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 1 + 0x1p-11f, Float.MAX_VALUE, Float.MIN_VALUE, Float.NEGATIVE_INFINITY, Float.NaN, 1e-30f, -3e-6f};
        System.arraycopy(edges, 0, xv, 0, edges.length);
        float[][][] r = ProgramParity.run(p, cuda, Map.of("x", xv));
        for (int o = 0; o < r[0].length; o++) {
            for (int i = 0; i < xv.length; i++) {
                assertEquals(Float.floatToIntBits(r[0][o][i]), Float.floatToIntBits(r[1][o][i]), "output " + o + " at x = " + xv[i] + ": CPU " + r[0][o][i] + ", CUDA " + r[1][o][i]);
            }
        }
        EmulatedDevice.CASES.incrementAndGet();
    }

    private Map<String, float[]> gemmFeeds() {
        Map<String, float[]> f = new LinkedHashMap<>();
        f.put("a", gaussian(8 * 64, 1));
        f.put("b", gaussian(64 * 16, 1));
        return f;
    }

    private static Graph product() { return Graph.of(matmul(input("a", Shape.of(8, 64)), input("b", Shape.of(64, 16)))); }

    private static double worstRelative(float[] x, float[] y) {
        double w = 0;
        for (int i = 0; i < x.length; i++) w = Math.max(w, Math.abs(x[i] - y[i]) / Math.max(Math.abs(x[i]), 1));
        return w;
    }

    @Test
    void tensorOpMathRoundsGemmOperandsToTf32AndExactF32DoesNot() {
        Program exact = Compiler.compile(product());
        Program tf32 = Compiler.compile(product(), Compiler.Options.defaults().withPrecision(Precision.TF32));
        // the exact program's instructions with TF32 declared: nothing rounds the operands but the GEMM's math mode
        Program modeOnly = new Program(exact.instructions(), exact.inputs(), exact.outputs(), exact.variables(), exact.constants(),
                exact.arenaSize(), false, Precision.TF32);
        Map<String, float[]> feeds = gemmFeeds();
        float[][][] e = ProgramParity.run(exact, cuda, feeds), t = ProgramParity.run(tf32, cuda, feeds), m = ProgramParity.run(modeOnly, cuda, feeds);
        // CPU exact vs CUDA exact, CPU emulation vs CUDA tensor-op math (both ways of getting there): sum order only
        ProgramParity.assertClose("exact", e[0][0], e[1][0], SUM_ORDER, 1e-6);
        ProgramParity.assertClose("tf32 program", t[0][0], t[1][0], SUM_ORDER, 1e-6);
        ProgramParity.assertClose("tf32 by math mode alone", t[0][0], m[1][0], SUM_ORDER, 1e-6);
        // and TF32 is visibly not exact: operands move by up to 2^-11 relative, far past the sum-order bound
        double gap = worstRelative(e[1][0], m[1][0]);
        assertTrue(gap > 20 * SUM_ORDER, "tensor-op math changed the GEMM by only " + gap + " relative: the mode did not reach the reference GEMM");
        assertEquals(Precision.TF32, cuda.backend.defaultPrecision(), "a GPU defaults to TF32");
        EmulatedDevice.CASES.incrementAndGet();
    }
}
