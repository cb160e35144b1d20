package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.cuda.ffi.Nccl;
import dev.kiln.graph.Variable;
import dev.kiln.nn.Model;

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
 * <p>Not yet: overlap with the backward pass. The buckets are issued in production order (the backward
 * pass's, last layer first), but only after the whole gradient program has run; overlapping needs the
 * gradient program cut at bucket boundaries. Nor more than one rank per process ({@link Nccl#initAll}).
 *
 * <pre>{@code
 * var step = new DataParallelStep(model, 256, DataParallelStep.nccl(comm), GradientBuckets.DEFAULT_CAP_BYTES);
 * step.gradients().setInput(slotX, x); step.gradients().setInput(slotY, y);
 * float loss = step.run(1e-3f, t);
 * }</pre>
 */
public final class DataParallelStep implements AutoCloseable {
    /** Averages {@code count} floats at a device address over the ranks, in place, on a stream. */
    public interface AllReduce {
        int ranks();
        void average(long pointer, long count, long stream);
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
        };
    }

    private final CudaExecutable grad, apply;
    private final CudaDriver driver;
    private final AllReduce reduce;
    private final GradientBuckets plan;
    private final DeviceAllocator.Block flat;
    /** By weight index (the gradient program's order): where its gradient is produced, where the optimizer reads it, its bytes. */
    private final long[] gradOut, applyIn, bytes;
    private final int stepIn, lrIn, applyStepIn;
    private final float[] scalar = new float[1];

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
        this.stepIn = grad.program().inputSlot("step");
        this.lrIn = apply.program().inputSlot("lr");
        this.applyStepIn = apply.program().inputSlot("step");
    }

    /** The gradient program: feed its batch inputs (by {@code program().inputSlot(name)}) before {@link #run}. */
    public Executable gradients() { return grad; }

    public GradientBuckets plan() { return plan; }

    /** One step at rate {@code lr} and step counter {@code t} (from 1): gradients, all-reduce, update; returns this rank's loss. */
    public float run(float lr, long t) {
        scalar[0] = t;
        grad.setInput(stepIn, scalar);
        grad.run();
        exchange();
        // the optimizer runs on its own stream: the gradients must have arrived
        driver.streamSynchronize(grad.stream());
        scalar[0] = lr;
        apply.setInput(lrIn, scalar);
        scalar[0] = t;
        apply.setInput(applyStepIn, scalar);
        apply.run();
        return grad.outputScalar(0);
    }

    /** Gradients to the optimizer's inputs: straight with one rank, else bucket by bucket through the all-reduce. */
    void exchange() {
        long stream = grad.stream();
        if (!plan.allReduces()) {
            for (int i = 0; i < gradOut.length; i++) driver.memcpyDtoDAsync(applyIn[i], gradOut[i], bytes[i], stream);
            return;
        }
        int n = gradOut.length;
        for (GradientBuckets.Bucket b : plan.buckets()) {
            long base = flat.address() + b.offset();
            for (int k = 0; k < b.members().size(); k++) {
                int w = n - 1 - b.members().get(k);   // production order is the weights' order reversed
                driver.memcpyDtoDAsync(base + b.memberOffsets().get(k), gradOut[w], bytes[w], stream);
            }
            reduce.average(base, b.bytes() / 4, stream);
            for (int k = 0; k < b.members().size(); k++) {
                int w = n - 1 - b.members().get(k);
                driver.memcpyDtoDAsync(applyIn[w], base + b.memberOffsets().get(k), bytes[w], stream);
            }
        }
    }

    private static CudaExecutable cuda(Executable e) {
        if (e instanceof CudaExecutable c) return c;
        throw new IllegalArgumentException("DataParallelStep needs a model on the CUDA backend (model.backend(cuda)), got an executable of "
                + e.getClass().getName());
    }

    @Override public void close() {
        if (flat != null) flat.close();
    }
}
