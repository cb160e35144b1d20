package dev.kiln.cuda;

import dev.kiln.cuda.emu.EmulatedDriver;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching allocator on the emulated driver, whose live-byte count shows every driver allocation and free. */
class DeviceAllocatorTest {

    @Test
    void sizeClassesArePowersOfTwoFrom512BytesThenMultiplesOf2MiB() {
        assertEquals(512, DeviceAllocator.sizeClass(1));
        assertEquals(512, DeviceAllocator.sizeClass(512));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        assertEquals(1 << 20, DeviceAllocator.sizeClass((1 << 20) - 1));
        assertEquals(2L << 20, DeviceAllocator.sizeClass((1 << 20) + 1));
        assertEquals(4L << 20, DeviceAllocator.sizeClass(3L << 20));
        assertThrows(IllegalArgumentException.class, () -> DeviceAllocator.sizeClass(0));
    }

    @Test
    void aFreedBlockIsReusedOnItsStreamWithoutCallingTheDriver() {
        try (EmulatedDriver cuda = new EmulatedDriver(); DeviceAllocator pool = new DeviceAllocator(cuda)) {
            cuda.init();
            long first;
            try (DeviceAllocator.Block b = pool.allocate(1000, 7)) { first = b.address(); assertEquals(1024, b.size()); }
            try (DeviceAllocator.Block b = pool.allocate(900, 7)) { assertEquals(first, b.address()); }
            var s = pool.stats();
            assertEquals(1, s.driverAllocations());
            assertEquals(1, s.cacheHits());
            assertEquals(0, s.inUseBytes());
            assertEquals(1024, s.cachedBytes());
            assertEquals(1024, s.peakInUseBytes());
            assertEquals(1024, cuda.liveBytes(), "the cached block is still the driver's allocation");
        }
    }

    @Test
    void anotherStreamGetsTheBlockOnlyAfterAllStreamsAreSynchronised() {
        try (EmulatedDriver cuda = new EmulatedDriver(); DeviceAllocator pool = new DeviceAllocator(cuda)) {
            cuda.init();
            long first;
            try (DeviceAllocator.Block b = pool.allocate(4096, 1)) { first = b.address(); }
            try (DeviceAllocator.Block b = pool.allocate(4096, 2)) { assertNotEquals(first, b.address(), "stream 1 may still be using it"); }
            pool.synchronizeStreams();
            try (DeviceAllocator.Block b = pool.allocate(4096, 3)) {
                assertEquals(1, pool.stats().cacheHits(), "after synchronisation any stream reuses a cached block");
            }
            assertEquals(2, pool.stats().driverAllocations());
        }
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetriesOnce() {
        try (EmulatedDriver cuda = new EmulatedDriver().withMemoryLimit(3 << 20); DeviceAllocator pool = new DeviceAllocator(cuda)) {
            cuda.init();
            pool.allocate(1 << 20, 0).close();        // 1 MiB cached
            try (DeviceAllocator.Block big = pool.allocate(2L << 20, 0)) { // 2 MiB: fits beside the cached MiB
                assertEquals(2L << 20, big.size());
            }
            // 4 MiB class does not fit while 3 MiB are cached: the pool frees its cache and retries.
            CudaException e = assertThrows(CudaException.class, () -> pool.allocate(4L << 20, 0));
            assertEquals(2, e.status(), "4 MiB exceeds the 3 MiB device even with an empty cache");
            assertEquals(0, pool.stats().cachedBytes(), "the cache was emptied before giving up");
            assertEquals(0, cuda.liveBytes());
            try (DeviceAllocator.Block b = pool.allocate(2L << 20, 0)) { assertEquals(2L << 20, cuda.liveBytes(), "allocating works again"); }
        }
    }

    @Test
    void emptyCacheAndCloseReturnEveryCachedBlockToTheDriver() {
        EmulatedDriver cuda = new EmulatedDriver();
        cuda.init();
        DeviceAllocator pool = new DeviceAllocator(cuda);
        DeviceAllocator.Block kept = pool.allocate(100, 0);
        pool.allocate(5000, 0).close();
        assertEquals(512 + 8192, cuda.liveBytes());
        pool.emptyCache();
        assertEquals(512, cuda.liveBytes());
        pool.close();
        kept.close();
        assertEquals(0, cuda.liveBytes(), "a block closed after the pool goes straight back to the driver");
        assertThrows(IllegalStateException.class, () -> pool.allocate(1, 0));
        cuda.close();
    }

    @Test
    void blocksHoldRealDeviceMemory() {
        try (EmulatedDriver cuda = new EmulatedDriver(); DeviceAllocator pool = new DeviceAllocator(cuda); Arena arena = Arena.ofConfined()) {
            cuda.init();
            try (DeviceAllocator.Block b = pool.allocate(16, 0)) {
                cuda.memsetD32(b.address(), 0x01020304, 4);
                MemorySegment host = arena.allocate(16);
                cuda.memcpyDtoH(host, b.address(), 16);
                for (int i = 0; i < 4; i++) assertEquals(0x01020304, host.getAtIndex(JAVA_INT, i));
            }
        }
    }

    @Test
    void anUnclosedBlockIsReportedAsALeakAndReturnedToThePool() throws InterruptedException {
        try (EmulatedDriver cuda = new EmulatedDriver(); DeviceAllocator pool = new DeviceAllocator(cuda)) {
            cuda.init();
            leakOne(pool);
            // Cleaners run after a GC notices the block is unreachable; 10 s is a bound against hangs, not a timing.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (pool.stats().leaks() == 0 && System.nanoTime() < deadline) { System.gc(); Thread.sleep(10); }
            assertEquals(1, pool.stats().leaks());
            assertEquals(0, pool.stats().inUseBytes());
            assertEquals(2048, pool.stats().cachedBytes(), "the leaked block went back to the cache");
        }
    }

    private static void leakOne(DeviceAllocator pool) { pool.allocate(2000, 0); }
}
