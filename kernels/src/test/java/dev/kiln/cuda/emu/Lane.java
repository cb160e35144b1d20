package dev.kiln.cuda.emu;

import java.lang.foreign.MemorySegment;

/** One emulated CUDA thread: its registers (special registers and constants included) and where it stands. */
final class Lane {
    static final int RUNNING = 0, AT_BARRIER = 1, AT_WARP_SYNC = 2, EXITED = 3;

    final long[] r;
    final Block block;
    final int laneId;
    final int warp;
    int pc;
    int state = RUNNING;
    long shuffleIn;   // the value a lane offers at a shfl.sync, read by the warp's other lanes

    Lane(long[] registers, Block block, int laneId, int warp) {
        this.r = registers;
        this.block = block;
        this.laneId = laneId;
        this.warp = warp;
    }

    /** What all lanes of one block share: the kernel, global memory, the block's shared memory and the parameters. */
    record Block(PtxKernel kernel, DeviceMemory global, MemorySegment shared, MemorySegment params) {}
}
