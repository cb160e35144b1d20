package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.compile.Compiler;
import dev.kiln.compile.Instruction;
import dev.kiln.compile.Precision;
import dev.kiln.compile.Program;
import dev.kiln.cpu.CpuBackend;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.ffi.CudaDriver.Dim3;
import dev.kiln.cuda.ffi.KernelArgs;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.Conv2dBackwardData;
import dev.kiln.graph.Conv2dBackwardFilter;
import dev.kiln.graph.ConvBias;
import dev.kiln.graph.Linear;
import dev.kiln.graph.MatMul;
import dev.kiln.graph.Op;
import dev.kiln.graph.Rounding;
import dev.kiln.graph.UnaryFn;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Input;
import dev.kiln.nn.MaxPool2D;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * bf16/fp16 products on 16-bit operands (HalfOperands) on the emulated device. The cast kernels write the bits of the
 * CPU's rounding; BF16 and FP16 training steps of an MLP and of a small convnet run every GEMM as gemmEx and every
 * convolution pass as conv.cu's 16-bit twin over 16-bit copies (the launch list and the plan's byte counts say so), and
 * give the bits of the same step with halfGemms(false) (rounded f32 operands through sgemm and the f32 kernels: the
 * values widen exactly and the sums run in the same order), and the CPU's results within the tolerance below.
 *
 * <p>CPU tolerance: 1e-5 relative on the loss, 1e-5 absolute on every variable, as for f32 steps (FitOnEmulatedDeviceTest).
 * Both backends round the same operands the same way, so they differ only in the GEMM's summation order (k ≤ 16 terms,
 * ≤ 16·2^-24 relative per product) and CUDA's float exp/log. Such a difference could carry a value across a rounding
 * boundary and change that operand element by a unit of its format (2^-8 relative for bf16, 2^-11 for fp16), which
 * this bound would catch; with these seeds none does (seen: equal losses, variables within 1.8e-7).
 */
class HalfGemmOnEmulatedDeviceTest extends OnEmulatedDevice {
    private static final int STEPS = 4, BATCH = 8, FEATURES = 12;
    private static final double LOSS_REL = 1e-5, WEIGHT_ABS = 1e-5;

    @Test
    void theCastKernelsWriteTheBitsOfTheCpusRounding() {
        float[] x = {0f, -0f, 1f, 1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 65504f, 65519.99f, 65520f, -65520f,
                0x1p-14f, 0x1p-24f, 0x1p-25f, 3 * 0x1p-25f, -0x1p-26f, 0x1.ff8p-15f, -3e-6f, 1e-30f, Float.MAX_VALUE, Float.MIN_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -123.456f, 3.1415927f, 1e5f, -7e-8f};
        int n = x.length;
        KernelGenerator gen = new KernelGenerator();
        String bf = gen.castHalf(UnaryFn.ROUND_BF16), fp = gen.castHalf(UnaryFn.ROUND_FP16);
        assertEquals(List.of("kiln_cast_bf16", "kiln_cast_fp16"), List.of(bf, fp));
        var d = cuda.driver;
        long module = d.moduleLoadData(cuda.device.compiler().ptx("cast.cu", gen.source()));
        long in = d.memAlloc(4L * n), out = d.memAlloc(2L * n);
        d.memcpyHtoD(in, MemorySegment.ofArray(x), 4L * n);
        for (String name : List.of(bf, fp)) {
            d.launchKernel(d.moduleGetFunction(module, name), Dim3.of(1), Dim3.of(32), 0, 0, KernelArgs.of().pointer(out).pointer(in).i64(n));
            d.streamSynchronize(0);
            short[] h = new short[n];
            d.memcpyDtoH(MemorySegment.ofArray(h), out, 2L * n);
            for (int i = 0; i < n; i++) {
                boolean bf16 = name.equals(bf);
                float cpu = bf16 ? Rounding.bf16(x[i]) : Rounding.fp16(x[i]);
                float stored = bf16 ? Float.intBitsToFloat(h[i] << 16) : Float.float16ToFloat(h[i]);
                if (Float.isNaN(cpu)) { assertTrue(Float.isNaN(stored), name + "(NaN) stored " + stored); continue; }
                assertEquals(Float.floatToRawIntBits(cpu), Float.floatToRawIntBits(stored), name + "(" + x[i] + "): CPU rounds to " + cpu + ", the cast stores " + stored);
            }
        }
        d.memFree(in);
        d.memFree(out);
        EmulatedDevice.CASES.incrementAndGet();
    }

    private static Model mlp() { return Sequential.of(Input.shape(FEATURES), Dense.of(16).relu(), Dense.of(10).relu(), Dense.of(1)).seed(11); }

    /** Two convolutions (the second's backward data pass too), pooling, a dense head over 6x6x2 inputs (72 features). */
    private static Model convnet() {
        return Sequential.of(Input.shape(6, 6, 2), Conv2D.of(4, 3).same().relu(), Conv2D.of(4, 3).same().relu(), MaxPool2D.of(2),
                Flatten.of(), Dense.of(1)).seed(11);
    }

    @Test void aBf16TrainingStepRunsItsProductsOn16BitOperands() { step(mlp(), 12, 0, Precision.BF16, "bf16"); }

    @Test void anFp16TrainingStepRunsItsProductsOn16BitOperands() { step(mlp(), 12, 0, Precision.FP16, "fp16"); }

    @Test void aBf16ConvnetStepRunsItsConvolutionsOn16BitOperands() { step(convnet(), 72, 5, Precision.BF16, "bf16"); }

    @Test void anFp16ConvnetStepRunsItsConvolutionsOn16BitOperands() { step(convnet(), 72, 5, Precision.FP16, "fp16"); }

    /** The README's M1 figures (bench model M1, BF16, batch 256): printed from the plan, with what they must satisfy. */
    @Test
    void m1AtBatch256ReadsHalfTheOperandBytesForAScratchSmallerThanItsArena() {
        Model m1 = Sequential.of(Input.shape(11), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(1)).seed(1);
        m1.compile(Adam.lr(1e-3), Loss.mae(), Precision.BF16);
        Model.Traced t = m1.trainingGraph(256);
        Program p = Compiler.compile(t.graph(), Compiler.Options.defaults().withInputs(t.inputs()).withPrecision(Precision.BF16));
        CudaExecutable e = (CudaExecutable) cuda.backend.compile(p);
        HalfOperands.Footprint fp = e.halfFootprint();
        long arenaBytes = 4L * p.arenaSize();
        System.out.printf("[kiln-cuda] M1 bf16 training step, batch 256: %d products on 16-bit operands; GEMM operand bytes per step %,d in f32, %,d in 16 bits; scratch %,d bytes beside a %,d-byte arena%n",
                fp.products(), fp.f32OperandBytes(), fp.halfOperandBytes(), fp.scratchBytes(), arenaBytes);
        // the README quotes these: 4 forward products, 7 backward (no data gradient into the input), operands 256-byte aligned
        assertEquals(new HalfOperands.Footprint(11, 10_012_672, 5_006_336, 786_432), fp, "M1's footprint changed: update README 'Mixed precision'");
        assertEquals(fp.f32OperandBytes(), 2 * fp.halfOperandBytes(), "16-bit operands read half the bytes");
        assertTrue(fp.scratchBytes() > 0 && fp.scratchBytes() < arenaBytes, "scratch " + fp.scratchBytes() + " vs arena " + arenaBytes);
        e.close();
        EmulatedDevice.CASES.incrementAndGet();
    }

    private void step(Model model, int features, int convolutions, Precision precision, String format) {
        model.compile(Adam.lr(1e-2), Loss.mse(), precision);
        Model.Traced t = model.trainingGraph(BATCH);
        Program p = Compiler.compile(t.graph(), Compiler.Options.defaults().withInputs(t.inputs()).withPrecision(precision));
        Random r = new Random(5);
        float[][] xs = new float[STEPS][BATCH * features], ys = new float[STEPS][BATCH];
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < xs[s].length; i++) xs[s][i] = (float) r.nextGaussian();
            for (int i = 0; i < BATCH; i++) ys[s][i] = (float) (r.nextGaussian() * 2);
        }
        // all three compiled before any runs: each CUDA backend uploads the initial variables into its own device copies
        CudaExecutable half = (CudaExecutable) cuda.backend.compile(p);
        CudaExecutable f32 = (CudaExecutable) new CudaBackend(cuda.device).halfGemms(false).compile(p);
        Executable cpu = new CpuBackend().compile(p);

        // the plan: every product reads 16-bit copies (two casts each), none is an f32 sgemm; the scratch is the largest pair
        int products = 0, gemms = 0;
        long operands = 0, first = 0, second = 0;
        for (Instruction ins : p.instructions()) {
            Op op = ins.node().op();
            boolean gemm = op instanceof MatMul || op instanceof Linear;
            if (!gemm && !(op instanceof Conv2d || op instanceof ConvBias || op instanceof Conv2dBackwardData || op instanceof Conv2dBackwardFilter)) continue;
            products++;
            if (gemm) gemms++;
            long a = ins.node().input(0).shape().size(), b = ins.node().input(1).shape().size();
            operands += a + b;
            first = Math.max(first, a);
            second = Math.max(second, b);
        }
        assertTrue(gemms >= 3 && products >= 6, "3 layers have 3 forward and at least 3 backward products, found " + products + ", " + gemms + " GEMMs");
        List<String> launches = half.kernelList(), plain = f32.kernelList();
        int convs = products - gemms;
        assertEquals(gemms, count(launches, "gemmEx(" + format + ", "), launches.toString());
        assertEquals(convs, count(launches, "kiln_conv2d_", "_" + format + "<<<"), launches.toString());
        assertEquals(2 * products, count(launches, "kiln_cast_" + format + "<<<"), launches.toString());
        assertEquals(0, count(launches, "sgemm(") + count(launches, "kiln_conv2d_", "_f32<<<"), launches.toString());
        assertEquals(gemms, count(plain, "sgemm("), "with halfGemms(false) every GEMM is an sgemm");
        assertEquals(convs, count(plain, "kiln_conv2d_", "_f32<<<"), "with halfGemms(false) every convolution reads f32");
        assertEquals(0, count(plain, "gemmEx(") + count(plain, "kiln_cast_"), "with halfGemms(false)");
        assertEquals(convolutions, convs, "convolution passes (the convnet: 2 forward, 2 filter gradients, the second's data gradient)");
        HalfOperands.Footprint fp = half.halfFootprint();
        long scratch = (2 * first + 255) / 256 * 256 + 2 * second;
        assertEquals(new HalfOperands.Footprint(products, 4 * operands, 2 * operands, scratch), fp);
        assertEquals(new HalfOperands.Footprint(0, 0, 0, 0), f32.halfFootprint());
        System.out.printf("[kiln-cuda] %s step (batch %d): %d products (%d GEMMs) on 16-bit operands; operand bytes %d in f32, %d in 16 bits; scratch %d bytes%n",
                format, BATCH, products, gemms, fp.f32OperandBytes(), fp.halfOperandBytes(), fp.scratchBytes());

        float[] cpuLoss = run(cpu, p, xs, ys);
        List<float[]> cpuVars = copies(p.variables());
        long halfCalls = cuda.gemm.halfCalls();
        float[] halfLoss = run(half, p, xs, ys);
        assertEquals(halfCalls + (long) STEPS * gemms, cuda.gemm.halfCalls(), "the reference gemmEx ran once per GEMM per step");
        float[] f32Loss = run(f32, p, xs, ys);
        half.syncVariables();
        List<float[]> halfVars = copies(p.variables());
        f32.syncVariables();
        List<float[]> f32Vars = copies(p.variables());

        for (int s = 0; s < STEPS; s++) {
            assertEquals(Float.floatToRawIntBits(f32Loss[s]), Float.floatToRawIntBits(halfLoss[s]), "step " + (s + 1) + ": 16-bit GEMMs " + halfLoss[s] + ", f32 GEMMs " + f32Loss[s]);
            assertEquals(cpuLoss[s], halfLoss[s], LOSS_REL * Math.abs(cpuLoss[s]), "step " + (s + 1) + " loss, CPU vs CUDA");
        }
        assertNotEquals(cpuLoss[0], cpuLoss[STEPS - 1], "the loss changes over the steps");
        double worst = 0, moved = 0;
        for (int v = 0; v < cpuVars.size(); v++) {
            float[] c = cpuVars.get(v), h = halfVars.get(v), f = f32Vars.get(v);
            for (int i = 0; i < c.length; i++) {
                assertEquals(Float.floatToRawIntBits(f[i]), Float.floatToRawIntBits(h[i]), p.variables().get(v).name() + "[" + i + "], 16-bit vs f32 GEMMs");
                worst = Math.max(worst, Math.abs(c[i] - h[i]));
            }
        }
        assertTrue(worst <= WEIGHT_ABS, "a variable differs from the CPU's by " + worst);
        System.out.printf("[kiln-cuda] %s: %d steps bit-identical with and without 16-bit GEMMs; vs CPU: worst loss relative %.2e, worst variable %.2e%n",
                format, STEPS, worstRelative(cpuLoss, halfLoss), worst);
        cpu.close();
        half.close();
        f32.close();
        EmulatedDevice.CASES.incrementAndGet();
    }

    private static int count(List<String> launches, String prefix) { return count(launches, prefix, ""); }

    private static int count(List<String> launches, String prefix, String part) {
        int c = 0;
        for (String l : launches) if (l.startsWith(prefix) && l.contains(part)) c++;
        return c;
    }

    private static double worstRelative(float[] a, float[] b) {
        double w = 0;
        for (int i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]) / Math.abs(a[i]));
        return w;
    }

    private static float[] run(Executable e, Program p, float[][] xs, float[][] ys) {
        float[] losses = new float[STEPS];
        for (int s = 0; s < STEPS; s++) {
            e.setInput(p.inputSlot("x"), xs[s]);
            e.setInput(p.inputSlot("y"), ys[s]);
            e.setInput(p.inputSlot("lr"), new float[] {1e-2f});
            e.setInput(p.inputSlot("step"), new float[] {s + 1});
            e.run();
            losses[s] = e.outputScalar(0);
        }
        return losses;
    }

    private static List<float[]> copies(List<Variable> vars) {
        List<float[]> l = new ArrayList<>();
        for (Variable v : vars) l.add(v.value().clone());
        return l;
    }
}
