package dev.kiln.cuda;

import dev.kiln.graph.Variable;

import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The one device copy of each variable that a {@link CudaBackend} keeps for every executable it
 * compiles (the Executable contract: a training step's updates are seen by the evaluation and
 * prediction programs, and by the training program of the last, partial batch, without a copy).
 * A variable is uploaded when the first program that reads it is compiled, and again before a run
 * when a host write ({@link Variable#assign}: setWeights, loadWeights, EarlyStopping's restore) has
 * moved its {@link Variable#version()}; its block lives as long as the backend. The host's
 * {@link Variable#value()} is refreshed by {@link #download}, called by {@link CudaExecutable#syncVariables()}.
 */
final class DeviceVariables {
    /** One variable's device copy and the host version it holds. */
    static final class Copy {
        final Variable variable;
        final DeviceAllocator.Block block;
        int version;

        private Copy(Variable variable, DeviceAllocator.Block block) {
            this.variable = variable;
            this.block = block;
        }

        long address() { return block.address(); }
    }

    private final CudaDevice device;
    private final Map<Variable, Copy> copies = new IdentityHashMap<>();

    DeviceVariables(CudaDevice device) { this.device = device; }

    /** The device copy of {@code v}, allocated and uploaded from its host value on first use. */
    synchronized Copy copy(Variable v) {
        Copy c = copies.get(v);
        if (c == null) {
            c = new Copy(v, device.allocator().allocate(4L * Math.max(1, v.shape().size()), 0));
            copies.put(v, c);
            upload(c);
        }
        return c;
    }

    /** Host to device when the host wrote {@code c}'s variable since its last upload; allocates nothing otherwise. */
    void refresh(Copy c) {
        if (c.version != c.variable.version()) upload(c);
    }

    /** Host to device: copies {@link Variable#value()} into its device copy. */
    void upload(Copy c) {
        float[] src = c.variable.value();
        if (src.length > 0) device.driver().memcpyHtoD(c.address(), MemorySegment.ofArray(src), 4L * src.length);
        c.version = c.variable.version();
    }

    /** Device to host: makes {@link Variable#value()} current. */
    void download(Copy c) {
        float[] dst = c.variable.value();
        if (dst.length > 0) device.driver().memcpyDtoH(MemorySegment.ofArray(dst), c.address(), 4L * dst.length);
    }
}
