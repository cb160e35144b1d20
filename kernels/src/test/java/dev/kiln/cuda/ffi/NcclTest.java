package dev.kiln.cuda.ffi;

import dev.kiln.cuda.CudaException;
import dev.kiln.cuda.GradientBuckets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The NCCL binding with one rank (and the communicators of several), against the stand-in library (fake_cuda_libs.c): communicator, all-reduce of a
 * gradient bucket's flat buffer, groups, and NCCL's own error text. The real libnccl is not installed here.
 */
class NcclTest {
    private static Arena arena;
    private static SharedLibrary fake;

    @BeforeAll static void build() throws Exception {
        Path so = FakeCudaLibraries.build().orElse(null);
        assumeTrue(so != null, "gcc not found at " + FakeCudaLibraries.GCC + ": the stand-in library cannot be built");
        arena = Arena.ofShared();
        fake = new SharedLibrary("libfakecuda.so", so.toString(), SymbolLookup.libraryLookup(so, arena));
    }

    @AfterAll static void unload() { if (arena != null) arena.close(); }

    @Test
    void oneRankCommunicatorAllReducesABucketInPlaceAndOutOfPlace() {
        Nccl nccl = Nccl.bind(fake);
        assertEquals("2.27.7", nccl.version());
        try (Arena a = Arena.ofConfined(); Nccl.Comm comm = nccl.initAll(1)) {
            assertEquals(1, comm.count());
            assertEquals(0, comm.rank());
            MemorySegment grads = a.allocateFrom(JAVA_FLOAT, 1.5f, -2f, 3.25f), out = a.allocate(JAVA_FLOAT, 3);
            nccl.groupStart();
            comm.allReduceSum(grads.address(), out.address(), 3, 0);
            comm.allReduceSum(grads.address(), grads.address(), 3, 0);
            nccl.groupEnd();
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, out.toArray(JAVA_FLOAT));   // one rank: the sum is the input
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, grads.toArray(JAVA_FLOAT));
        }
    }

    @Test
    void aFailingCallCarriesNcclsErrorText() {
        Nccl nccl = Nccl.bind(fake);
        try (Nccl.Comm comm = nccl.initAll(1)) {
            CudaException e = assertThrows(CudaException.class, () -> comm.allReduceSum(16, 16, 1L << 30, 0));
            assertEquals("ncclAllReduce", e.call());
            assertTrue(e.getMessage().contains("invalid argument (run with NCCL_DEBUG=WARN for details)"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> nccl.initAll(2));
    }

    @Test
    void withOneRankTheBucketPlanAsksForNoAllReduce() {
        var plan = GradientBuckets.plan(List.of(new GradientBuckets.Gradient("w", 4096)), GradientBuckets.DEFAULT_CAP_BYTES, 1);
        assertTrue(plan.buckets().isEmpty() && !plan.allReduces());
    }

    @Test
    void oneRankAveragesInPlaceAndTheDataParallelStepSeesOneRank() {
        Nccl nccl = Nccl.bind(fake);
        try (Arena a = Arena.ofConfined(); Nccl.Comm comm = nccl.initAll(1)) {
            MemorySegment grads = a.allocateFrom(JAVA_FLOAT, 0.5f, -4f);
            comm.allReduceAverage(grads.address(), grads.address(), 2, 0);   // ncclAvg over one rank: unchanged
            assertArrayEquals(new float[] {0.5f, -4f}, grads.toArray(JAVA_FLOAT));
            var reduce = dev.kiln.cuda.DataParallelStep.nccl(comm);
            assertEquals(1, reduce.ranks());
            var plan = GradientBuckets.plan(List.of(new GradientBuckets.Gradient("w", 4096)), GradientBuckets.DEFAULT_CAP_BYTES, reduce.ranks());
            assertTrue(!plan.allReduces(), "one rank: the data-parallel step does no all-reduce");
        }
    }

    @Test
    void commsForDevicesMakesRankROnDeviceR() {
        Nccl nccl = Nccl.bind(fake);
        List<Nccl.Comm> comms = nccl.commsForDevices(3);
        try {
            assertEquals(3, comms.size());
            for (int r = 0; r < 3; r++) {
                assertEquals(3, comms.get(r).count(), "rank " + r + "'s communicator counts every rank");
                assertEquals(r, comms.get(r).rank());
                assertEquals(3, dev.kiln.cuda.DataParallelStep.nccl(comms.get(r)).ranks());
            }
        } finally {
            comms.get(1).abort();   // a failed rank's communicator: aborted (freed by NCCL), so close must not destroy it again
            comms.get(1).abort();
            for (Nccl.Comm c : comms) c.close();
        }
        assertThrows(IllegalArgumentException.class, () -> nccl.commsForDevices(0));
    }

    @Test
    void versionCodesBeforeAndAfterNccl29() {
        assertEquals("2.8.4", Nccl.versionText(2804));
        assertEquals("2.27.7", Nccl.versionText(22707));
    }
}
