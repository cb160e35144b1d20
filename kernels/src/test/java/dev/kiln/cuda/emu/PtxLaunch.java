package dev.kiln.cuda.emu;

import dev.kiln.cuda.ffi.CudaDriver.Dim3;
import dev.kiln.cuda.ffi.KernelArgs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Runs one kernel launch on the emulated device: blocks one after another; inside a block, each
 * lane runs until it reaches a synchronisation point (bar.sync for the block, shfl.sync or
 * bar.warp.sync for its warp) or exits, and a point is passed once every live lane it concerns
 * has reached it. That is enough for kernels that are correct on a GPU (they may not rely on
 * lanes running ahead of each other), and it finds a barrier that some lanes never reach.
 */
final class PtxLaunch {
    /** A guard against a kernel that never ends: instructions one lane may execute. */
    static final long STEP_LIMIT = 50_000_000L;

    private PtxLaunch() {}

    static void run(PtxKernel k, DeviceMemory global, Dim3 grid, Dim3 block, int dynamicShared, KernelArgs args) {
        if (block.count() > 1024) throw new IllegalArgumentException("kernel " + k.name + ": " + block.count() + " threads per block (at most 1024)");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(Math.max(8, k.paramBytes), 8);
            writeParams(k, args, params);
            int sharedBytes = k.hasDynamicShared ? k.dynamicSharedOffset + dynamicShared : k.staticSharedBytes;
            MemorySegment shared = arena.allocate(Math.max(8, sharedBytes), 16);
            int threads = (int) block.count();
            Lane[] lanes = new Lane[threads];
            for (int bz = 0; bz < grid.z(); bz++) for (int by = 0; by < grid.y(); by++) for (int bx = 0; bx < grid.x(); bx++) {
                shared.fill((byte) 0x5A);   // shared memory starts undefined; a fixed junk pattern makes reliance on it visible
                Lane.Block b = new Lane.Block(k, global, shared, params);
                for (int i = 0; i < threads; i++) {
                    long[] r = k.template.clone();
                    int tx = i % block.x(), ty = (i / block.x()) % block.y(), tz = i / (block.x() * block.y());
                    long[] special = {tx, ty, tz, block.x(), block.y(), block.z(), bx, by, bz, grid.x(), grid.y(), grid.z(), i % 32, i / 32, 32};
                    System.arraycopy(special, 0, r, 0, special.length);
                    lanes[i] = new Lane(r, b, i % 32, i / 32);
                }
                runBlock(k, lanes);
            }
        }
    }

    private static void writeParams(PtxKernel k, KernelArgs args, MemorySegment params) {
        if (args.size() != k.params.size()) throw new IllegalArgumentException("kernel " + k.name + " takes " + k.params.size()
                + " parameters, the launch gave " + args.size());
        for (int i = 0; i < args.size(); i++) {
            PtxModule.Param p = k.params.get(i);
            KernelArgs.Kind kind = args.kind(i);
            boolean ok = switch (kind) {
                case F32 -> p.type().equals("f32") || p.type().equals("b32");
                case F64 -> p.type().equals("f64") || p.type().equals("b64");
                case I32 -> p.size() == 4 && !p.type().equals("f32");
                case I64, POINTER -> p.size() == 8 && !p.type().equals("f64");
            };
            if (!ok) throw new IllegalArgumentException("kernel " + k.name + " parameter " + i + " (" + p.name() + ") is ."
                    + p.type() + ", the launch passed " + kind);
            DeviceMemory.write(params, p.offset(), kind.bytes, args.bits(i));
        }
    }

    private static void runBlock(PtxKernel k, Lane[] lanes) {
        int n = lanes.length;
        int warps = (n + 31) / 32;
        Lane[] warpLanes = new Lane[32];
        while (true) {
            boolean progress = false;
            for (Lane t : lanes) if (t.state == Lane.RUNNING) { step(k, t); progress = true; }
            for (int w = 0; w < warps; w++) {
                int live = 0, waiting = 0, pc = -1;
                for (int i = w * 32; i < Math.min(n, w * 32 + 32); i++) {
                    Lane t = lanes[i];
                    if (t.state == Lane.EXITED) continue;
                    live++;
                    if (t.state == Lane.AT_WARP_SYNC) {
                        if (pc >= 0 && pc != t.pc) throw new IllegalStateException("PTX emulator, kernel " + k.name + ": warp " + w
                                + " diverged at warp-synchronous instructions '" + k.code[pc].text + "' and '" + k.code[t.pc].text + "'");
                        pc = t.pc;
                        warpLanes[waiting++] = t;
                    }
                }
                if (live > 0 && waiting == live) {
                    k.code[pc].warpExec.run(warpLanes, waiting);
                    for (int i = 0; i < waiting; i++) { warpLanes[i].pc++; warpLanes[i].state = Lane.RUNNING; }
                    progress = true;
                }
            }
            int live = 0, atBarrier = 0;
            for (Lane t : lanes) {
                if (t.state != Lane.EXITED) live++;
                if (t.state == Lane.AT_BARRIER) atBarrier++;
            }
            if (live == 0) return;
            if (atBarrier == live) {
                for (Lane t : lanes) if (t.state == Lane.AT_BARRIER) { t.pc++; t.state = Lane.RUNNING; }
                progress = true;
            }
            if (!progress) {
                StringBuilder where = new StringBuilder();
                for (Lane t : lanes) if (t.state != Lane.EXITED) { where.append(" thread ").append(t.laneId + 32 * t.warp).append(" at '").append(k.code[t.pc].text).append("'"); break; }
                throw new IllegalStateException("PTX emulator, kernel " + k.name + ": block deadlocked (" + atBarrier + " of " + live
                        + " live threads at bar.sync, the others at warp-synchronous instructions);" + where);
            }
        }
    }

    /** Runs one lane until it exits or reaches a synchronisation point. */
    private static void step(PtxKernel k, Lane t) {
        PtxKernel.Insn[] code = k.code;
        long[] r = t.r;
        int pc = t.pc;
        long steps = 0;
        while (true) {
            PtxKernel.Insn in = code[pc];
            if (++steps > STEP_LIMIT) throw new IllegalStateException("PTX emulator, kernel " + k.name + ": a thread ran "
                    + STEP_LIMIT + " instructions without finishing (an endless loop?), at '" + in.text + "'");
            if (in.guard >= 0 && (r[in.guard] != 0) == in.guardNegated) { pc++; continue; }
            switch (in.kind) {
                case PtxKernel.NORMAL -> {
                    try {
                        in.exec.run(t);
                    } catch (RuntimeException e) {
                        throw new IllegalStateException("PTX emulator, kernel " + k.name + ", thread " + (t.laneId + 32 * t.warp)
                                + ", '" + in.text + "': " + e.getMessage(), e);
                    }
                    pc++;
                }
                case PtxKernel.BRANCH -> pc = in.target;
                case PtxKernel.EXIT -> { t.pc = pc; t.state = Lane.EXITED; return; }
                case PtxKernel.BARRIER -> { t.pc = pc; t.state = Lane.AT_BARRIER; return; }
                default -> {
                    if (in.exec != null) in.exec.run(t);
                    t.pc = pc;
                    t.state = Lane.AT_WARP_SYNC;
                    return;
                }
            }
        }
    }
}
