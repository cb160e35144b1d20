package dev.kiln.examples;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ServeOverloadTest {
    /**
     * At 10x the rate the service sustains, the bounded queue refuses what it cannot hold (503, counted), holds no more
     * than its capacity, and loses nothing: every request ends answered, refused, or failed (a connection error the
     * client counts); when the rate drops to a quarter, every request is answered again.
     */
    @Test
    void atTenTimesTheSustainableRateRequestsAreRejectedAndCountedAndTheServiceRecovers() throws Exception {
        int queue = 32;
        List<ServeOverload.Phase> phases = ServeOverload.run(1.0, queue);
        phases.forEach(ServeOverload::print);
        ServeOverload.Phase base = phases.get(0), over = phases.get(1), after = phases.get(2);
        assertTrue(base.ok() > 0 && base.failed() == 0 && base.rejected() == 0 && base.lost() == 0, "closed loop: " + base);
        assertTrue(over.rejected() > 0, "10x: the full queue refuses requests (REJECT): " + over);
        assertEquals(0, over.lost(), "10x: every request ends answered, refused or failed: " + over);
        assertEquals(over.sent(), over.ok() + over.rejected() + over.failed(), "10x: outcomes add up: " + over);
        // failed: connections the loopback could not take at this rate (the client's errors), counted, never silent
        assertTrue(over.maxQueued() <= queue, "10x: the queue never held more than its " + queue + " rows: " + over);
        assertTrue(after.sent() > 0 && after.ok() == after.sent(), "recovery: every request answered again: " + after);
    }
}
