package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.compile.Precision;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.nn.LossScale;
import dev.kiln.nn.Model;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel steps as far as one device allows: with one rank the step (gradient program, then the
 * optimizer's) trains as the fused training step does and calls no all-reduce; with a stand-in
 * all-reduce of two ranks (in place, it averages this rank's bucket with a second rank's that holds 3×
 * the values, so the average is 2×) every gradient reaches the optimizer's input doubled, through
 * buckets that split the gradients as the plan says, and the first bucket's all-reduce is issued
 * before the gradient program's last launch (the overlap, as an order of calls: the emulated device
 * runs each call at once).
 *
 * <p>Tolerance for one rank vs fused: 1e-6 absolute on weights; the split and fused programs compute
 * the same gradients, but the compiler may fuse differently across the cut (see GradientProgramTest).
 */
class DataParallelStepTest extends OnEmulatedDevice {
    private static final int BATCH = 8, FEATURES = 5, STEPS = 3;
    private Model model() {
        return denseModel(FEATURES, 5, 6, 1).backend(new CudaBackend(cuda.device));   // a backend each: its own device copy of the weights
    }

    private static float[][] batch(int step) {
        Random r = new Random(step);
        float[] x = new float[BATCH * FEATURES], y = new float[BATCH];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < y.length; i++) y[i] = (float) r.nextGaussian();
        return new float[][] {x, y};
    }

    private static void feed(Executable e, float[][] xy) {
        e.setInput(e.program().inputSlot("x"), xy[0]);
        e.setInput(e.program().inputSlot("y"), xy[1]);
    }

    @Test
    void oneRankTrainsAsTheFusedStepWithNoAllReduce() { oneRankAsTheFusedStep(false); }

    /** FP16 with a loss scale (2 good steps to double) and an infinity in step 2's input: the split step skips it as the fused one does. */
    @Test
    void oneRankInFp16SkipsAPoisonedStepAndScalesAsTheFusedStep() { oneRankAsTheFusedStep(true); }

    private void oneRankAsTheFusedStep(boolean fp16) {
        Model fused = model(), split = model();
        if (fp16) for (Model m : List.of(fused, split)) {
            m.compile(Adam.lr(1e-2), Loss.mse(), Precision.FP16);
            m.lossScale(LossScale.initial(1024f).growthInterval(2));
        }
        int poisoned = fp16 ? 2 : -1;
        Executable train = fused.trainingProgram(BATCH);
        List<String> calls = new ArrayList<>();
        try (DataParallelStep dp = new DataParallelStep(split, BATCH, DataParallelStep.ONE_RANK, GradientBuckets.DEFAULT_CAP_BYTES)) {
            assertTrue(dp.plan().buckets().isEmpty() && !dp.plan().allReduces());
            for (int s = 1; s <= STEPS; s++) {
                float[][] xy = batch(s);
                if (s == poisoned) xy[0][3] = Float.POSITIVE_INFINITY;
                feed(train, xy);
                train.setInput(train.program().inputSlot("lr"), new float[] {1e-2f});
                train.setInput(train.program().inputSlot("step"), new float[] {s});
                train.run();
                feed(dp.gradients(), xy);
                if (s == STEPS) cuda.driver.logCalls(calls);
                float loss = dp.run(1e-2f, s);
                cuda.driver.logCalls(null);
                if (s != poisoned) assertEquals(train.outputScalar(0), loss, 1e-6 * Math.abs(loss), "loss of step " + s);
            }
            if (fp16) {
                train.syncVariables();
                dp.syncVariables();   // the scale's variables are the apply program's
                assertEquals(1, fused.lossScale().skippedSteps(), "the fused step skipped step " + poisoned);
                assertEquals(fused.lossScale().skippedSteps(), split.lossScale().skippedSteps());
                assertEquals(fused.lossScale().scale(), split.lossScale().scale(), "scale");
                assertEquals(512f, split.lossScale().scale(), "1024, halved to 512 at step 2; doubling needs 2 good steps after it");
            }
            train.syncVariables();
            List<float[]> a = values(fused.weights());
            dp.gradients().syncVariables();
            List<float[]> b = values(split.weights());
            for (int v = 0; v < a.size(); v++) {
                for (int i = 0; i < a.get(v).length; i++) assertEquals(a.get(v)[i], b.get(v)[i], 1e-6, fused.weights().get(v).name() + "[" + i + "]");
            }
            assertTrue(calls.contains("kiln_adam_update_f32"), calls.toString());
        }
        EmulatedDevice.CASES.incrementAndGet();
    }

    @Test
    void twoRanksAverageEveryGradientThroughItsBucketWhileTheBackwardPassGoesOn() {
        Model m = model();
        List<long[]> reduced = new ArrayList<>();
        List<String> calls = new ArrayList<>();
        DataParallelStep.AllReduce twoRanks = new DataParallelStep.AllReduce() {
            @Override public int ranks() { return 2; }
            @Override public void average(long pointer, long count, long stream) {
                reduced.add(new long[] {pointer, count});
                calls.add("allreduce");
                float[] v = new float[(int) count];
                cuda.driver.memcpyDtoH(MemorySegment.ofArray(v), pointer, 4 * count);
                for (int i = 0; i < v.length; i++) v[i] = (v[i] + 3 * v[i]) / 2;   // the other rank holds 3x
                cuda.driver.memcpyHtoD(pointer, MemorySegment.ofArray(v), 4 * count);
            }
        };
        // a 128-byte cap (gradients start 256-byte aligned inside a bucket): one gradient per bucket, 4 buckets
        try (DataParallelStep dp = new DataParallelStep(m, BATCH, twoRanks, 128)) {
            GradientBuckets plan = dp.plan();
            assertTrue(plan.buckets().size() >= 2, "buckets " + plan.buckets());
            feed(dp.gradients(), batch(1));
            cuda.driver.logCalls(calls);
            dp.run(1e-2f, 1);
            cuda.driver.logCalls(null);
            assertEquals(plan.buckets().size(), reduced.size(), "one all-reduce per bucket");
            long covered = 0;
            for (long[] r : reduced) covered += r[1];
            long planned = 0;
            for (GradientBuckets.Bucket b : plan.buckets()) planned += b.bytes() / 4;
            assertEquals(planned, covered, "the all-reduces cover every bucket");

            // overlap, as an order of calls: each bucket's gather, all-reduce and scatter come right after the launch that
            // finishes its last gradient, and the first one before the gradient program's last launch
            CudaExecutable grad = (CudaExecutable) dp.gradients();
            List<String> names = new ArrayList<>();
            for (String l : CudaBackend.kernelList(grad)) names.add(l.split("[<(]")[0]);
            int[] points = dp.issuePoints();
            System.out.println("[kiln-cuda] data-parallel step: " + points.length + " buckets issued after launches " + java.util.Arrays.toString(points)
                    + " of the gradient program's " + names.size());
            assertTrue(points[0] < names.size(), "the first bucket is ready after " + points[0] + " of " + names.size() + " launches");
            List<String> expected = new ArrayList<>();
            int done = 0;
            for (int k = 0; k < points.length; k++) {
                expected.addAll(names.subList(done, points[k]));
                done = points[k];
                int members = dp.issueOrder().get(k).members().size();
                for (int j = 0; j < members; j++) expected.add("memcpyDtoD");
                expected.add("allreduce");
                for (int j = 0; j < members; j++) expected.add("memcpyDtoD");
            }
            expected.addAll(names.subList(done, names.size()));
            assertEquals(expected, calls.subList(0, expected.size()), "the gradient program's launches with the buckets' all-reduces between them");
            CudaExecutable apply = (CudaExecutable) m.applyGradientsProgram();
            List<Variable> ws = m.gradientWeights();
            int first = grad.program().outputs().size() - ws.size();
            for (int i = 0; i < ws.size(); i++) {
                int size = ws.get(i).shape().size();
                float[] g = new float[size], arrived = new float[size];
                grad.readOutput(first + i, g);
                cuda.driver.memcpyDtoH(MemorySegment.ofArray(arrived), apply.inputAddress(apply.program().inputSlot("grad/" + i)), 4L * size);
                boolean nonZero = false;
                for (int j = 0; j < size; j++) {
                    assertEquals(2 * g[j], arrived[j], 0, ws.get(i).name() + "[" + j + "] after the all-reduce");
                    nonZero |= g[j] != 0;
                }
                assertTrue(nonZero, ws.get(i).name() + " has a non-zero gradient");
            }
        }
        EmulatedDevice.CASES.incrementAndGet();
    }

    private static List<float[]> values(List<Variable> vs) {
        List<float[]> l = new ArrayList<>();
        for (Variable v : vs) l.add(v.value().clone());
        return l;
    }
}
