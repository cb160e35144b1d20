package dev.kiln.cuda;

import dev.kiln.backend.Executable;
import dev.kiln.backend.InputFeed;
import dev.kiln.compile.Instruction;
import dev.kiln.compile.Precision;
import dev.kiln.compile.Program;
import dev.kiln.compile.Slot;
import dev.kiln.cuda.ffi.CudaDriver;
import dev.kiln.graph.Constant;
import dev.kiln.graph.Variable;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A program bound to device memory: one arena (the memory planner's offsets, one allocation),
 * one buffer per input, per variable and per constant, and the program's launches bound once.
 * Host copies happen only at the named points: {@link #setInput}, {@link #readOutput},
 * {@link #outputScalar} and {@link #syncVariables} (variables are the backend's one device copy,
 * {@link DeviceVariables}, shared with its other executables; read them back with syncVariables). {@link #run()} walks the
 * launch list and allocates nothing on the host.
 */
final class CudaExecutable implements Executable {
    private final Program program;
    private final CudaDevice device;
    private final CudaDriver driver;
    private final List<DeviceAllocator.Block> blocks = new ArrayList<>();
    private final long arena;
    private final long[] inputs, variables, constants;
    private final Launch[] launches;
    /** For checkNumerics: the index after each instruction's last launch. */
    private final int[] instructionEnd;
    private final float[] scalar = new float[1];
    private final MemorySegment scalarSegment = MemorySegment.ofArray(scalar);
    private final long stream;
    private float[] checkBuffer;
    private final DeviceVariables shared;
    private final DeviceVariables.Copy[] copies;
    /** Capture on the second run (the first is the warm-up, eager) and replay from then on. */
    private final boolean autoGraph;
    /** Whether {@link #prefetch} offers a pinned feed (else callers feed with setInput). */
    private final boolean pinnedFeed;
    /** The 16-bit copies of the GEMM operands rounded to bf16/fp16. */
    private final HalfOperands half;
    private long graph, graphExec, runs;
    private int captures;
    private boolean closed;

    CudaExecutable(Program program, CudaDevice device, DeviceVariables shared, boolean autoGraph, boolean pinnedFeed, boolean halfGemms) {
        this.program = program;
        this.pinnedFeed = pinnedFeed;
        this.shared = shared;
        this.autoGraph = autoGraph && !program.checkNumerics();
        this.device = device;
        this.driver = device.driver();
        this.arena = allocate(Math.max(1, program.arenaSize()));
        this.inputs = new long[program.inputs().size()];
        for (int i = 0; i < inputs.length; i++) inputs[i] = allocate(program.inputs().get(i).shape().size());
        List<Variable> vars = program.variables();
        this.variables = new long[vars.size()];
        this.copies = new DeviceVariables.Copy[vars.size()];
        for (int i = 0; i < variables.length; i++) {
            copies[i] = shared.copy(vars.get(i));
            variables[i] = copies[i].address();
        }
        List<Constant> consts = program.constants();
        this.constants = new long[consts.size()];
        for (int i = 0; i < constants.length; i++) {
            constants[i] = allocate(consts.get(i).data().length);
            upload(constants[i], consts.get(i).data());
        }
        KernelGenerator generator = new KernelGenerator();
        Instruction[] instructions = program.instructions().toArray(Instruction[]::new);
        this.half = HalfOperands.plan(program.instructions().stream().map(Instruction::node).toList(), halfGemms,
                device.cudnn().isEmpty());
        if (half.bytes() > 0) half.bind(allocate((int) ((half.bytes() + 3) / 4)));
        CudaLowering lowering = new CudaLowering(device, generator, half);
        List<Launch> all = new ArrayList<>();
        this.instructionEnd = new int[instructions.length];
        for (int s = 0; s < instructions.length; s++) {
            Instruction ins = instructions[s];
            long[] in = new long[ins.inputs().size()];
            for (int i = 0; i < in.length; i++) in[i] = address(ins.inputs().get(i));
            all.addAll(lowering.lower(ins.node(), in, ins.output() == null ? 0 : address(ins.output())));
            instructionEnd[s] = all.size();
        }
        if (!generator.isEmpty()) {
            // one translation unit per program: one NVRTC (or nvcc) run, one module
            long module = driver.moduleLoadData(device.compiler().ptx("kiln_program.cu", generator.source()));
            for (Launch.Kernel k : lowering.generated) k.function = driver.moduleGetFunction(module, k.name);
        }
        long workspace = lowering.workspaceBytes();   // cuDNN's convolutions: allocated with the program's buffers
        if (workspace > 0) lowering.bindWorkspace(allocate((int) Math.min(Integer.MAX_VALUE, (workspace + 3) / 4)));
        this.launches = all.toArray(Launch[]::new);
        this.stream = driver.streamCreate();
    }

    private long allocate(int floats) {
        DeviceAllocator.Block b = device.allocator().allocate(4L * Math.max(1, floats), 0);
        blocks.add(b);
        return b.address();
    }

    private void upload(long dst, float[] src) {
        if (src.length > 0) driver.memcpyHtoD(dst, MemorySegment.ofArray(src), 4L * src.length);
    }

    private long address(Slot s) {
        long base = switch (s.storage()) {
            case ARENA -> arena;
            case INPUT -> inputs[s.index()];
            case VARIABLE -> variables[s.index()];
            case CONSTANT -> constants[s.index()];
        };
        return base + 4L * s.offset();
    }

    /** The device address of input {@code slot} (for device-to-device feeds: DataParallelStep). */
    long inputAddress(int slot) { return inputs[slot]; }

    /** The device address of output {@code slot}. */
    long outputAddress(int slot) { return address(program.outputs().get(slot)); }

    CudaDevice device() { return device; }

    /** The stream this executable runs on. */
    long stream() { return stream; }

    /** The launches of one run, in order: the step's kernel list. */
    List<String> kernelList() {
        List<String> l = new ArrayList<>(launches.length);
        for (Launch launch : launches) l.add(launch.describe());
        return l;
    }

    @Override public Program program() { return program; }

    @Override public void setInput(int slot, float[] data) { setInput(slot, data, 0, data.length); }

    @Override public void setInput(int slot, float[] src, int offset, int count) {
        int size = program.inputs().get(slot).shape().size();
        if (count != size) {
            throw new IllegalArgumentException("input " + program.inputNames().get(slot) + " takes " + size
                    + " values (shape " + program.inputs().get(slot).shape() + "), got " + count);
        }
        driver.memcpyHtoD(inputs[slot], MemorySegment.ofArray(src).asSlice(4L * offset, 4L * count), 4L * count);
    }

    /** Batches from {@code source} through two sets of pinned, prefetched buffers ({@link PinnedFeed}); null when the backend's pinnedFeed is off. */
    @Override public InputFeed prefetch(int[] slots, InputFeed.Source source) {
        return pinnedFeed ? new PinnedFeed(this, slots, 2, source) : null;
    }

    @Override public void run() {
        if (closed) throw new IllegalStateException("this CUDA executable is closed");
        bindGemm();
        if (program.checkNumerics()) { runChecked(); return; }
        for (DeviceVariables.Copy c : copies) shared.refresh(c);
        if (graphExec == 0 && autoGraph && runs > 0) captureGraph();
        runs++;
        if (graphExec != 0) { driver.graphLaunch(graphExec, stream); return; }
        for (Launch l : launches) l.run(driver, device.gemm(), stream);
    }

    /** The GEMM on this executable's stream, on tensor cores unless the program asked for exact f32 ({@link Precision}). */
    private void bindGemm() {
        device.gemm().setStream(stream);
        device.gemm().setTensorOpMath(program.precision() != Precision.F32);
    }

    /**
     * Runs eagerly (never the graph) and calls {@code at.accept(k)} once the launches before {@code points[k]}
     * (ascending) are issued: the data-parallel step issues each gradient bucket's all-reduce there, on its own stream,
     * while the rest of the backward pass is queued behind it.
     */
    void runWithPoints(int[] points, java.util.function.IntConsumer at) {
        if (closed) throw new IllegalStateException("this CUDA executable is closed");
        for (DeviceVariables.Copy c : copies) shared.refresh(c);
        device.gemm().setStream(stream);
        int next = 0;
        for (int k = 0; k < points.length; k++) {
            for (; next < points[k]; next++) launches[next].run(driver, device.gemm(), stream);
            at.accept(k);
        }
        for (; next < launches.length; next++) launches[next].run(driver, device.gemm(), stream);
    }

    /** How many launches are issued before output {@code slot} is final: the end of the last instruction that writes into it. */
    int readyAfter(int slot) {
        Slot o = program.outputs().get(slot);
        List<Instruction> ins = program.instructions();
        int ready = 0;
        for (int s = 0; s < ins.size(); s++) {
            Slot w = ins.get(s).output();
            if (w != null && w.storage() == o.storage() && w.index() == o.index()
                    && w.offset() < o.offset() + o.size() && o.offset() < w.offset() + w.size()) ready = instructionEnd[s];
        }
        return o.storage() == Slot.Storage.ARENA && ready == 0 ? launches.length : ready;
    }

    /** The products that read 16-bit operands and the bytes involved ({@link HalfOperands}). */
    HalfOperands.Footprint halfFootprint() { return half.footprint(); }

    /** How many times this executable captured its launches as a CUDA graph: 0 or 1, never once per step. */
    int captures() { return captures; }

    /**
     * Captures one step's launches as a CUDA graph (nothing runs while capturing); from then on
     * {@link #run()} launches the graph: one driver call per step instead of one per kernel. The
     * per-step scalars (learning rate, step count) are read from device buffers the inputs fill,
     * so a replay follows them. {@link #run()} calls it on the second run unless graphs are off
     * ({@code -Dkiln.cuda.graph=false}) or the program checks numerics.
     */
    void captureGraph() {
        if (program.checkNumerics()) throw new IllegalStateException("a program with checkNumerics runs eagerly: it reads every output back");
        if (graphExec != 0) return;
        bindGemm();
        driver.streamBeginCapture(stream);
        try {
            for (Launch l : launches) l.run(driver, device.gemm(), stream);
        } finally {
            graph = driver.streamEndCapture(stream);
        }
        graphExec = driver.graphInstantiate(graph);
        captures++;
    }

    private void runChecked() {
        int from = 0;
        List<Instruction> instructions = program.instructions();
        for (int s = 0; s < instructionEnd.length; s++) {
            for (int i = from; i < instructionEnd[s]; i++) launches[i].run(driver, device.gemm(), stream);
            from = instructionEnd[s];
            Slot out = instructions.get(s).output();
            if (out == null) continue;
            int n = out.size();
            if (checkBuffer == null || checkBuffer.length < n) checkBuffer = new float[n];
            driver.memcpyDtoH(MemorySegment.ofArray(checkBuffer), address(out), 4L * n);
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(checkBuffer[i])) {
                    throw new ArithmeticException("non-finite value " + checkBuffer[i] + " at element " + i + " of the output of instruction "
                            + s + ": " + instructions.get(s).node().describe() + " — the first op to produce NaN/Inf in this run (CUDA backend)");
                }
            }
        }
    }

    @Override public void readOutput(int slot, float[] dst, int offset) {
        Slot s = program.outputs().get(slot);
        driver.memcpyDtoH(MemorySegment.ofArray(dst).asSlice(4L * offset, 4L * s.size()), address(s), 4L * s.size());
    }

    @Override public float outputScalar(int slot) {
        driver.memcpyDtoH(scalarSegment, address(program.outputs().get(slot)), 4);
        return scalar[0];
    }

    /** Copies every variable from the device into its host array ({@link Variable#value()}). */
    @Override public void syncVariables() {
        driver.streamSynchronize(stream);
        for (DeviceVariables.Copy c : copies) shared.download(c);
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        driver.streamSynchronize(stream);
        if (graphExec != 0) driver.graphExecDestroy(graphExec);
        if (graph != 0) driver.graphDestroy(graph);
        driver.streamDestroy(stream);
        for (DeviceAllocator.Block b : blocks) b.close();
    }
}
