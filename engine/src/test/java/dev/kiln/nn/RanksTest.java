package dev.kiln.nn;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ranks' threads: an interrupted caller releases the ranks and still waits for every one, {@code enter} binds each
 * rank on the thread that runs its work (rank 0: whichever thread calls), and close waits for the threads to end.
 */
class RanksTest {
    @Test
    void anInterruptedCallerAbortsTheRanksAndWaitsForEveryOneToReturn() {
        HostAllReduce reduce = new HostAllReduce(2);
        CountDownLatch returned = new CountDownLatch(1);
        AtomicInteger aborts = new AtomicInteger();
        try (Ranks ranks = new Ranks(2, r -> {})) {
            var e = assertThrows(IllegalStateException.class, () -> ranks.each(r -> {
                if (r == 0) {   // rank 0 runs on the calling thread: interrupt it, so its wait for rank 1 is interrupted
                    Thread.currentThread().interrupt();
                    return;
                }
                try {
                    reduce.average(1, new float[][] {{1}}, new float[][] {{0}});   // waits for rank 0, which never comes
                } finally {
                    returned.countDown();
                }
            }, () -> {
                aborts.incrementAndGet();
                reduce.abort();
            }));
            boolean flag = Thread.interrupted();   // read and cleared first, so that no later assertion runs interrupted
            assertEquals(0, returned.getCount(), "rank 1 had returned when each did");
            assertEquals(1, aborts.get(), "the interrupt ran onFailure once");
            assertTrue(flag, "the caller's interrupt flag is set again");
            assertEquals("the thread running data-parallel training was interrupted; the ranks were stopped", e.getMessage());
        }
    }

    @Test
    void anInterruptFromBeforeTheCallIsKeptButDoesNotStopIt() {
        AtomicInteger ran = new AtomicInteger(), aborts = new AtomicInteger();
        try (Ranks ranks = new Ranks(3, r -> {})) {
            Thread.currentThread().interrupt();   // as after an interrupted fit, before close's cleanup
            ranks.each(r -> ran.incrementAndGet(), aborts::incrementAndGet);
            boolean flag = Thread.interrupted();
            assertEquals(3, ran.get(), "every rank ran");
            assertEquals(0, aborts.get(), "no failure");
            assertTrue(flag, "the caller's interrupt flag is kept");
        }
    }

    @Test
    void eachRankIsEnteredOnTheThreadThatRunsItsWorkRankZeroOnTheCaller() throws InterruptedException {
        ThreadLocal<Integer> bound = new ThreadLocal<>();
        int[] seen = {-1, -1, -1};
        AtomicReference<Throwable> failed = new AtomicReference<>();
        try (Ranks ranks = new Ranks(3, bound::set)) {
            ranks.each(r -> seen[r] = bound.get(), () -> {});
            // a second caller (a fit from another thread than the one that started the ranks): rank 0 is entered there
            Thread other = new Thread(() -> {
                try {
                    ranks.each(r -> seen[r] = 10 * bound.get() + r, () -> {});
                } catch (RuntimeException | Error e) {
                    failed.set(e);
                }
            });
            other.start();
            other.join();
        }
        assertNull(failed.get());
        assertEquals(0, seen[0]);
        assertEquals(11, seen[1]);
        assertEquals(22, seen[2]);
    }

    @Test
    void closeWaitsForTheRankThreadsToEnd() {
        Thread[] rank1 = new Thread[1];
        Ranks ranks = new Ranks(2, r -> {});
        ranks.each(r -> { if (r == 1) rank1[0] = Thread.currentThread(); }, () -> {});
        ranks.close();
        assertFalse(rank1[0].isAlive(), "rank 1's thread has ended when close returns");
    }
}
