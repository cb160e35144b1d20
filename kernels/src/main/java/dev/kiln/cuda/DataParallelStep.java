package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.ffi.Nccl;
import dev.kiln.graph.Variable;
import dev.kiln.nn.Model;
import dev.kiln.nn.OptimizerUpdate;
import dev.kiln.nn.RankStep;

import java.util.ArrayList;
import java.util.List;

/**
 * One rank's data-parallel training step on the CUDA backend: the model's gradient program
 * ({@link Model#gradientProgram}), the gradients averaged over the ranks in {@link GradientBuckets}
 * (each bucket gathered into one flat device buffer, one all-reduce per bucket, scattered back), then
 * the optimizer's program ({@link Model#applyGradientsProgram}) on the averaged gradients. Every copy
 * stays on the device. With one rank the plan has no buckets: the gradients go straight to the
 * optimizer, no all-reduce.
 *
 * <p>Overlap: with several ranks the gradient program runs eagerly and each bucket's gather, all-reduce and
 * scatter are issued on a communication stream as soon as the launches that produce its last gradient are
 * queued (an event on the compute stream, waited for on the communication stream), while the rest of the
 * backward pass is queued behind them; buckets go in the order their gradients become final. Unverified on
 * GPUs (the emulated device runs every call at once, so its tests check the order of the calls and the
 * values, not concurrency). Several ranks in one process, a thread and a device each: {@link MultiGpu} (through
 * {@link dev.kiln.nn.DataParallel}, which feeds each rank its slice of the global batch).
 *
 * <pre>{@code
 * var step = new DataParallelStep(model, 256, DataParallelStep.nccl(comm), GradientBuckets.DEFAULT_CAP_BYTES);
 * step.gradients().setInput(slotX, x); step.gradients().setInput(slotY, y);
 * float loss = step.run(1e-3f, t);
 * }</pre>
 */
public final class DataParallelStep implements RankStep {
    /** Averages {@code count} floats at a device address over the ranks, in place, on a stream. */
    public interface AllReduce {
        int ranks();
        void average(long pointer, long count, long stream);

        /** Another rank failed: stop waiting for it (NCCL: ncclCommAbort), so that this rank's thread returns. */
        default void abort() {}
    }

    /** One rank: nothing to average (the plan has no buckets, so this is never called). */
    public static final AllReduce ONE_RANK = new AllReduce() {
        @Override public int ranks() { return 1; }
        @Override public void average(long pointer, long count, long stream) {
            throw new IllegalStateException("one rank has nothing to all-reduce");
        }
    };

    /** NCCL's all-reduce with ncclAvg over {@code comm}'s ranks. */
    public static AllReduce nccl(Nccl.Comm comm) {
        int ranks = comm.count();
        return new AllReduce() {
            @Override public int ranks() { return ranks; }
            @Override public void average(long pointer, long count, long stream) { comm.allReduceAverage(pointer, pointer, count, stream); }
            @Override public void abort() { comm.abort(); }
        };
    }

    private final CudaExecutable grad, apply;
    private final CudaDriver driver;
    private final AllReduce reduce;
    private final GradientBuckets plan;
    private final DeviceAllocator.Block flat;
    /** By weight index (the gradient program's order): where its gradient is produced, where the optimizer reads it, its bytes. */
    private final long[] gradOut, applyIn, bytes;
    private final int stepIn;
    private final OptimizerUpdate update;
    private final float[] scalar = new float[1];
    /** Several ranks: the buckets in the order they become final, the launch count before each, an event each, the communication stream. */
    private final GradientBuckets.Bucket[] order;
    private final int[] points;
    private final long[] ready;
    private final long comm;
    private final java.util.function.IntConsumer issue = this::issueBucket;

    public DataParallelStep(Model model, int batch, AllReduce reduce, long capBytes) {
        this.grad = cuda(model.gradientProgram(batch));
        this.apply = cuda(model.applyGradientsProgram());
        this.driver = grad.device().driver();
        this.reduce = reduce;
        List<Variable> weights = model.gradientWeights();
        int n = weights.size(), first = grad.program().outputs().size() - n;
        gradOut = new long[n];
        applyIn = new long[n];
        bytes = new long[n];
        List<GradientBuckets.Gradient> forward = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            gradOut[i] = grad.outputAddress(first + i);
            applyIn[i] = apply.inputAddress(apply.program().inputSlot("grad/" + i));
            bytes[i] = 4L * weights.get(i).shape().size();
            forward.add(new GradientBuckets.Gradient(weights.get(i).name(), bytes[i]));
        }
        this.plan = GradientBuckets.plan(GradientBuckets.fromForwardOrder(forward), capBytes, reduce.ranks());
        this.flat = plan.allReduces() ? grad.device().allocator().allocate(plan.flatBytes(), 0) : null;
        int buckets = plan.buckets().size();
        this.order = plan.buckets().toArray(GradientBuckets.Bucket[]::new);
        this.points = new int[buckets];
        int[] at = new int[buckets];
        for (GradientBuckets.Bucket b : order) {
            for (int m : b.members()) at[b.index()] = Math.max(at[b.index()], grad.readyAfter(first + (n - 1 - m)));
        }
        java.util.Arrays.sort(order, java.util.Comparator.comparingInt((GradientBuckets.Bucket b) -> at[b.index()]).thenComparingInt(GradientBuckets.Bucket::index));
        for (int k = 0; k < buckets; k++) points[k] = at[order[k].index()];
        this.ready = new long[buckets];
        for (int k = 0; k < buckets; k++) ready[k] = driver.eventCreate();
        this.comm = plan.allReduces() ? driver.streamCreate() : 0;
        this.stepIn = grad.program().inputSlot("step");
        this.update = new OptimizerUpdate(apply);
    }

    /** The gradient program: feed its batch inputs (by {@code program().inputSlot(name)}) before {@link #run}. */
    @Override public Executable gradients() { return grad; }

    @Override public Executable applyGradients() { return apply; }

    public GradientBuckets plan() { return plan; }

    /** One step at rate {@code lr} and step counter {@code t} (from 1): gradients, all-reduce, update; returns this rank's loss. */
    @Override public float run(float lr, long t) {
        scalar[0] = t;
        grad.setInput(stepIn, scalar);
        if (plan.allReduces()) {
            grad.runWithPoints(points, issue);   // the buckets' all-reduces go out on the communication stream as their gradients are done
            driver.streamSynchronize(comm);
        } else {
            grad.run();
            exchange();
        }
        // the optimizer runs on its own stream: the gradients must have arrived
        driver.streamSynchronize(grad.stream());
        update.run(lr, t);
        return grad.outputScalar(0);
    }

    @Override public void abort() { reduce.abort(); }

    /** One rank: the gradients straight to the optimizer's inputs, on the compute stream. */
    private void exchange() {
        for (int i = 0; i < gradOut.length; i++) driver.memcpyDtoDAsync(applyIn[i], gradOut[i], bytes[i], grad.stream());
    }

    /** The k-th bucket to become final, once the launches that produce it are queued: gather, average, scatter on the communication stream. */
    private void issueBucket(int k) {
        driver.eventRecord(ready[k], grad.stream());
        driver.streamWaitEvent(comm, ready[k]);
        GradientBuckets.Bucket b = order[k];
        int n = gradOut.length;
        long base = flat.address() + b.offset();
        for (int j = 0; j < b.members().size(); j++) {
            int w = n - 1 - b.members().get(j);   // production order is the weights' order reversed
            driver.memcpyDtoDAsync(base + b.memberOffsets().get(j), gradOut[w], bytes[w], comm);
        }
        reduce.average(base, b.bytes() / 4, comm);
        for (int j = 0; j < b.members().size(); j++) {
            int w = n - 1 - b.members().get(j);
            driver.memcpyDtoDAsync(applyIn[w], base + b.memberOffsets().get(j), bytes[w], comm);
        }
    }

    /** The launch count of the gradient program before each bucket's all-reduce is issued, in issue order (for tests). */
    int[] issuePoints() { return points.clone(); }

    /** The buckets in issue order (for tests). */
    List<GradientBuckets.Bucket> issueOrder() { return List.of(order); }

    private static CudaExecutable cuda(Executable e) {
        if (e instanceof CudaExecutable c) return c;
        throw new IllegalArgumentException("DataParallelStep needs a model on the CUDA backend (model.backend(cuda)), got an executable of "
                + e.getClass().getName());
    }

    @Override public void close() {
        for (long e : ready) driver.eventDestroy(e);
        if (comm != 0) {
            driver.streamSynchronize(comm);
            driver.streamDestroy(comm);
        }
        if (flat != null) flat.close();
    }
}
