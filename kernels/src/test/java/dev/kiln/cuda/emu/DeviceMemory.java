package dev.kiln.cuda.emu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The emulated device's global memory: each allocation is a host segment, and its device address
 * encodes which one ({@code GLOBAL_BASE + id<<32 + offset}), so a load finds its segment in O(1)
 * and an access outside every live allocation fails naming the address. Shared memory has its own
 * generic-address window below the global one.
 */
final class DeviceMemory implements AutoCloseable {
    static final long GLOBAL_BASE = 1L << 44;
    static final long SHARED_WINDOW = 1L << 40;
    static final long WINDOW_SIZE = 1L << 32;

    private final Arena arena = Arena.ofShared();
    private final List<MemorySegment> allocations = new ArrayList<>();
    private long liveBytes;

    long alloc(long bytes) {
        if (bytes <= 0 || bytes >= WINDOW_SIZE) throw new IllegalArgumentException("emulated cuMemAlloc of " + bytes + " bytes (1 .. 4 GiB)");
        allocations.add(arena.allocate(bytes, 256));
        liveBytes += bytes;
        return GLOBAL_BASE + ((long) (allocations.size() - 1) << 32);
    }

    void free(long address) {
        long rel = address - GLOBAL_BASE;
        int id = (int) (rel >>> 32);
        if (rel < 0 || (rel & (WINDOW_SIZE - 1)) != 0 || id >= allocations.size() || allocations.get(id) == null) {
            throw new IllegalArgumentException("cuMemFree of 0x" + Long.toHexString(address) + ": not the start of a live allocation");
        }
        liveBytes -= allocations.get(id).byteSize();
        allocations.set(id, null);
    }

    long liveBytes() { return liveBytes; }

    /** The segment holding {@code bytes} bytes at {@code address}, sliced to start there. */
    MemorySegment slice(long address, long bytes) {
        long rel = address - GLOBAL_BASE;
        long id = rel >>> 32;
        MemorySegment seg = rel < 0 || id >= allocations.size() ? null : allocations.get((int) id);
        long off = rel & (WINDOW_SIZE - 1);
        if (seg == null || off + bytes > seg.byteSize()) {
            throw new IllegalArgumentException("device address 0x" + Long.toHexString(address) + " (+" + bytes
                    + " bytes) is outside every live allocation" + (seg == null ? "" : " (allocation of " + seg.byteSize() + " bytes)"));
        }
        return seg.asSlice(off, bytes);
    }

    /** A load of {@code width} bytes (1, 2, 4, 8), zero-extended. */
    long load(long address, int width) {
        return read(segmentFor(address, width), address & (WINDOW_SIZE - 1), width);
    }

    void store(long address, int width, long value) {
        write(segmentFor(address, width), address & (WINDOW_SIZE - 1), width, value);
    }

    private MemorySegment segmentFor(long address, int width) {
        long rel = address - GLOBAL_BASE;
        long id = rel >>> 32;
        MemorySegment seg = rel < 0 || id >= allocations.size() ? null : allocations.get((int) id);
        long off = rel & (WINDOW_SIZE - 1);
        if (seg == null || off + width > seg.byteSize()) {
            throw new IllegalStateException("global access of " + width + " bytes at 0x" + Long.toHexString(address)
                    + " is outside every live allocation" + (seg == null ? "" : " (allocation of " + seg.byteSize() + " bytes, offset " + off + ")"));
        }
        if ((off & (width - 1)) != 0) throw new IllegalStateException("misaligned global access of " + width + " bytes at 0x" + Long.toHexString(address));
        return seg;
    }

    static long read(MemorySegment seg, long off, int width) {
        return switch (width) {
            case 1 -> seg.get(ValueLayout.JAVA_BYTE, off) & 0xFFL;
            case 2 -> seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, off) & 0xFFFFL;
            case 4 -> seg.get(ValueLayout.JAVA_INT_UNALIGNED, off) & 0xFFFF_FFFFL;
            case 8 -> seg.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
            default -> throw new IllegalArgumentException("access width " + width);
        };
    }

    static void write(MemorySegment seg, long off, int width, long value) {
        switch (width) {
            case 1 -> seg.set(ValueLayout.JAVA_BYTE, off, (byte) value);
            case 2 -> seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, off, (short) value);
            case 4 -> seg.set(ValueLayout.JAVA_INT_UNALIGNED, off, (int) value);
            case 8 -> seg.set(ValueLayout.JAVA_LONG_UNALIGNED, off, value);
            default -> throw new IllegalArgumentException("access width " + width);
        }
    }

    @Override public void close() { arena.close(); }
}
