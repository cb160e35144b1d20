package dev.kiln.cuda;

import dev.kiln.compile.Compiler;
import dev.kiln.compile.Program;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.cuda.emu.Nvcc;
import dev.kiln.cuda.ffi.Sgemm;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.nn.BatchNormalization;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A compiled training step on the emulated device as a unit: its launch list, a CUDA graph captured
 * from it (a replay runs the same calls in the same order and gives the same bits as the eager step),
 * and a steady-state run() that allocates nothing on the host. A small model with every kind of
 * launch the dense models make (GEMM, generated kernels, batch norm, dropout, Adam, assign copies).
 */
class CompiledStepTest extends OnEmulatedDevice {
    private static final int BATCH = 16, FEATURES = 6;
    private static Program program() {
        Model m = Sequential.of(Input.shape(FEATURES), BatchNormalization.of(), Dense.of(8).relu(), Dropout.of(0.3), Dense.of(1).sigmoid()).seed(3);
        m.compile(Adam.lr(1e-2), Loss.binaryCrossentropy());
        Model.Traced t = m.trainingGraph(BATCH);
        return Compiler.compile(t.graph(), Compiler.Options.defaults().withInputs(t.inputs()));
    }

    private static void feed(CudaExecutable e, Program p, int step) { feed(e, p, step, BATCH, FEATURES, 2); }

    /** A generated batch for {@code step}: gaussian x, class-index y. */
    private static void feed(CudaExecutable e, Program p, int step, int batch, int features, int classes) {
        Random r = new Random(step);
        float[] x = new float[batch * features], y = new float[batch];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < y.length; i++) y[i] = r.nextInt(classes);
        e.setInput(p.inputSlot("x"), x);
        e.setInput(p.inputSlot("y"), y);
        e.setInput(p.inputSlot("lr"), new float[] {1e-2f});
        e.setInput(p.inputSlot("step"), new float[] {step});
    }

    private static List<float[]> variables(Program p) {
        List<float[]> l = new ArrayList<>();
        for (Variable v : p.variables()) l.add(v.value().clone());
        return l;
    }

    /** "kiln_gen_3<<<1, 256>>>" -> "kiln_gen_3", "sgemm(N, T, ...)" -> "sgemm". */
    private static List<String> names(List<String> launches) {
        List<String> l = new ArrayList<>();
        for (String s : launches) l.add(s.split("[<(]")[0]);
        return l;
    }

    @Test
    void aCapturedGraphReplaysTheEagerStepsCallsAndBits() {
        List<String> expected = replay(program(), (e, p, step) -> feed(e, p, step));
        assertTrue(expected.contains("sgemm") && expected.contains("kiln_dropout_f32") && expected.contains("kiln_adam_update_f32")
                && expected.contains("kiln_batchnorm_forward_f32") && expected.contains("memcpyDtoD"), expected.toString());
    }

    /** The tiny M3 convnet's step: every convolution and pooling launch, captured and replayed. */
    @Test
    void aCapturedConvnetStepReplaysTheEagerStepsCallsAndBits() {
        Model m = ModelStepsOnEmulatedDeviceTest.m3Tiny();
        Model.Traced t = m.trainingGraph(6);
        Program p = Compiler.compile(t.graph(), Compiler.Options.defaults().withInputs(t.inputs()));
        List<String> expected = replay(p, (e, prog, step) -> feed(e, prog, step, 6, 9 * 9 * 2, 5));
        for (String kernel : List.of("kiln_conv2d_forward_f32", "kiln_conv2d_backward_data_f32", "kiln_conv2d_backward_filter_f32",
                "kiln_pool2d_forward_f32", "kiln_pool2d_backward_f32")) {
            assertTrue(expected.contains(kernel), kernel + " in " + expected);
        }
        assertTrue(expected.stream().filter("kiln_conv2d_forward_f32"::equals).count() >= 2, "the plain and the fused convolution: " + expected);
    }

    interface Feeder { void feed(CudaExecutable e, Program p, int step); }

    /**
     * Runs two steps of {@code p} eagerly and from a captured graph on two executables and checks that the replay makes
     * the eager step's calls in order, with the same losses and variables bit for bit. Returns the launch names.
     */
    private List<String> replay(Program p, Feeder feeder) {
        // two backends over one device: each keeps its own device copy of the variables, so the two step independently
        CudaExecutable eager = (CudaExecutable) new CudaBackend(cuda.device).graphs(false).compile(p);
        CudaExecutable graphed = (CudaExecutable) new CudaBackend(cuda.device).compile(p);
        List<String> expected = names(eager.kernelList());

        graphed.captureGraph();   // records, runs nothing
        float[] eagerLoss = new float[2], graphLoss = new float[2];
        for (int step = 1; step <= 2; step++) {
            List<String> eagerCalls = new ArrayList<>(), replayCalls = new ArrayList<>();
            feeder.feed(eager, p, step);
            cuda.driver.logCalls(eagerCalls);
            eager.run();
            feeder.feed(graphed, p, step);
            cuda.driver.logCalls(replayCalls);
            graphed.run();
            cuda.driver.logCalls(null);
            assertEquals(expected, eagerCalls, "the eager step runs its launch list");
            assertEquals(eagerCalls, replayCalls, "a replay of the captured graph runs the eager step's calls in order");
            eagerLoss[step - 1] = eager.outputScalar(0);
            graphLoss[step - 1] = graphed.outputScalar(0);
        }
        assertArrayEquals(eagerLoss, graphLoss, "losses, bit for bit");
        assertTrue(eagerLoss[0] != eagerLoss[1], "the replay reads the new inputs of each step");
        eager.syncVariables();
        List<float[]> a = variables(p);
        graphed.syncVariables();
        List<float[]> b = variables(p);
        for (int v = 0; v < a.size(); v++) assertArrayEquals(a.get(v), b.get(v), p.variables().get(v).name());
        eager.close();
        graphed.close();
        EmulatedDevice.CASES.incrementAndGet();
        return expected;
    }

    @Test
    void theSteadyStateRunAllocatesNothingOnTheHost() {
        Program p = program();
        Sgemm noGemm = new Sgemm() {
            @Override public void sgemm(int ta, int tb, int m, int n, int k, float al, long a, int lda, long b, int ldb, float be, long c, int ldc) {}
            @Override public void sgemmStridedBatched(int ta, int tb, int m, int n, int k, float al, long a, int lda, long sa, long b, int ldb, long sb,
                                                      float be, long c, int ldc, long sc, int batch) {}
            @Override public void gemmEx(int type, int ta, int tb, int m, int n, int k, float al, long a, int lda, long sa, long b, int ldb, long sb,
                                         float be, long c, int ldc, long sc, int batch) {}
            @Override public void setTensorOpMath(boolean on) {}
        };
        // the executable's own cost: the emulated device's launches and the reference GEMM (which allocate) do nothing
        CudaExecutable e = (CudaExecutable) new CudaBackend(new CudaDevice(cuda.driver, noGemm, Nvcc::ptx)).graphs(false).compile(p);
        cuda.driver.dryRun(true);
        feed(e, p, 1);
        for (int i = 0; i < 20_000; i++) e.run();   // warm: interpreted and compiled
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long baseline0 = threads.getCurrentThreadAllocatedBytes();
        long baseline = threads.getCurrentThreadAllocatedBytes() - baseline0;
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1000; i++) e.run();
        long allocated = threads.getCurrentThreadAllocatedBytes() - before - baseline;
        cuda.driver.dryRun(false);
        assertEquals(0, allocated, "bytes allocated by 1000 runs of " + e.kernelList().size() + " launches");
        e.close();
    }
}
