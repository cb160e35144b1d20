package dev.kiln.cuda;

import dev.kiln.cuda.ffi.CudaDriver;

import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A caching device-memory pool (PyTorch's caching allocator, simplified): requests are rounded up
 * to a size class, freed blocks stay cached and are handed out again without a driver call.
 * Reuse is stream-ordered: a block freed on stream S is reused at once only by work on S (the
 * stream runs in order, so the old user is done before the new one starts); other streams get it
 * after {@link #synchronizeStreams()} has waited for all streams. Each {@link Block} is AutoCloseable;
 * one that becomes unreachable unclosed is logged as a leak by a Cleaner and returned to the pool.
 *
 * <pre>{@code
 * try (DeviceAllocator pool = new DeviceAllocator(cuda);
 *      DeviceAllocator.Block x = pool.allocate(4L * n, stream)) {
 *     cuda.memcpyHtoD(x.address(), host, 4L * n);
 * }
 * }</pre>
 */
public final class DeviceAllocator implements AutoCloseable {
    static final long MIN_BLOCK = 512;
    static final long SMALL_LIMIT = 1L << 20;
    static final long LARGE_GRANULE = 2L << 20;
    static final int CUDA_ERROR_OUT_OF_MEMORY = 2;

    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger(DeviceAllocator.class.getName());

    /** Counters since creation. */
    public record Stats(long inUseBytes, long cachedBytes, long peakInUseBytes, long driverAllocations, long cacheHits, long leaks) {}

    private final CudaDriver driver;
    // (size class, stream) -> free device addresses; stream -1 holds blocks free for every stream.
    private final Map<FreeList, ArrayDeque<Long>> free = new HashMap<>();

    private record FreeList(long size, long stream) {}
    private long inUse, cached, peak, driverAllocations, hits, leaks;
    private boolean closed;

    public DeviceAllocator(CudaDriver driver) { this.driver = driver; }

    /** The size a request of {@code bytes} occupies: powers of two from 512 B to 1 MiB, then multiples of 2 MiB. */
    public static long sizeClass(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("device allocation of " + bytes + " bytes");
        if (bytes <= MIN_BLOCK) return MIN_BLOCK;
        if (bytes <= SMALL_LIMIT) return Long.highestOneBit(bytes - 1) << 1;
        return (bytes + LARGE_GRANULE - 1) / LARGE_GRANULE * LARGE_GRANULE;
    }

    /** A block of at least {@code bytes} for work on {@code stream}; the driver is called only when no cached block fits. */
    public synchronized Block allocate(long bytes, long stream) {
        if (closed) throw new IllegalStateException("the device allocator is closed");
        long size = sizeClass(bytes);
        Long address = take(size, stream);
        if (address == null) address = take(size, -1);
        if (address != null) {
            hits++;
            cached -= size;
        } else {
            address = driverAlloc(size);
        }
        inUse += size;
        peak = Math.max(peak, inUse);
        return new Block(this, address, size, stream);
    }

    private long driverAlloc(long size) {
        try {
            driverAllocations++;
            return driver.memAlloc(size);
        } catch (CudaException e) {
            if (e.status() != CUDA_ERROR_OUT_OF_MEMORY || cached == 0) throw e;
            emptyCache();   // the cache may hold enough memory: give it back and try once more
            return driver.memAlloc(size);
        }
    }

    private Long take(long size, long stream) {
        ArrayDeque<Long> q = free.get(new FreeList(size, stream));
        return q == null ? null : q.pollLast();
    }

    synchronized void release(long address, long size, long stream) {
        inUse -= size;
        if (closed) { driver.memFree(address); return; }
        cached += size;
        free.computeIfAbsent(new FreeList(size, stream), k -> new ArrayDeque<>()).addLast(address);
    }

    // One step, so nobody sees the leak counted while the block is still in use.
    private synchronized void releaseLeaked(long address, long size, long stream) {
        leaks++;
        release(address, size, stream);
    }

    /** Waits for every stream (cuCtxSynchronize), after which cached blocks are free for any stream. */
    public synchronized void synchronizeStreams() {
        driver.contextSynchronize();
        Map<FreeList, ArrayDeque<Long>> anyStream = new HashMap<>();
        for (Map.Entry<FreeList, ArrayDeque<Long>> e : free.entrySet()) {
            anyStream.computeIfAbsent(new FreeList(e.getKey().size(), -1), k -> new ArrayDeque<>()).addAll(e.getValue());
        }
        free.clear();
        free.putAll(anyStream);
    }

    /** Returns every cached block to the driver. */
    public synchronized void emptyCache() {
        driver.contextSynchronize();
        for (ArrayDeque<Long> q : free.values()) for (Long address : q) driver.memFree(address);
        free.clear();
        cached = 0;
    }

    public synchronized Stats stats() { return new Stats(inUse, cached, peak, driverAllocations, hits, leaks); }

    /** Frees the cache; blocks still in use are freed when they are closed. */
    @Override public synchronized void close() {
        if (closed) return;
        emptyCache();
        closed = true;
    }

    /** One allocation: its device address and size class; close it to return it to the pool. */
    public static final class Block implements AutoCloseable {
        private final long address;
        private final long size;
        private final State state;
        private final Cleaner.Cleanable cleanable;

        private Block(DeviceAllocator pool, long address, long size, long stream) {
            this.address = address;
            this.size = size;
            this.state = new State(pool, address, size, stream);
            this.cleanable = CLEANER.register(this, state);
        }

        public long address() { return address; }
        public long size() { return size; }

        @Override public void close() {
            state.closedByOwner = true;
            cleanable.clean();
        }
    }

    // The Cleaner's action: must not reach the Block, or it would never become unreachable.
    private static final class State implements Runnable {
        final DeviceAllocator pool;
        final long address, size, stream;
        volatile boolean closedByOwner;

        State(DeviceAllocator pool, long address, long size, long stream) {
            this.pool = pool;
            this.address = address;
            this.size = size;
            this.stream = stream;
        }

        @Override public void run() {
            if (closedByOwner) { pool.release(address, size, stream); return; }
            LOG.log(System.Logger.Level.WARNING, "kiln-cuda: a device block of " + size + " bytes at 0x" + Long.toHexString(address)
                    + " was never closed (leak); returned to the pool. Close DeviceAllocator.Block with try-with-resources.");
            pool.releaseLeaked(address, size, stream);
        }
    }
}
