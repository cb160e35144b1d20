package dev.kiln.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Learning-rate schedules at chosen steps, against values worked out by hand (tolerance 1e-12). */
class ScheduleTest {
    private static final double TOL = 1e-12;

    @Test
    void stepDecayHalvesEveryTenSteps() {
        Schedule s = Schedule.stepDecay(10, 0.5);
        assertEquals(0.1, s.at(0, 0.1), TOL);
        assertEquals(0.1, s.at(9, 0.1), TOL);
        assertEquals(0.05, s.at(10, 0.1), TOL);
        assertEquals(0.025, s.at(25, 0.1), TOL);
    }

    @Test
    void cosineGoesFromBaseToMinimumThenStays() {
        Schedule s = Schedule.cosine(100, 0.1);
        assertEquals(1.0, s.at(0, 1), TOL);
        assertEquals(0.1 + 0.45 * (1 + Math.sqrt(0.5)), s.at(25, 1), TOL); // cos(π/4)
        assertEquals(0.55, s.at(50, 1), TOL);
        assertEquals(0.1, s.at(100, 1), TOL);
        assertEquals(0.1, s.at(150, 1), TOL);
    }

    @Test
    void warmupRampsLinearlyThenStartsTheScheduleAtItsStep0() {
        Schedule s = Schedule.cosine(100, 0).withWarmup(10);
        assertEquals(0.1, s.at(0, 1), TOL);
        assertEquals(0.5, s.at(4, 1), TOL);
        assertEquals(1.0, s.at(9, 1), TOL);
        assertEquals(1.0, s.at(10, 1), TOL);
        assertEquals(0.5, s.at(60, 1), TOL);
        assertEquals(0.0, s.at(110, 1), TOL);
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Schedule.stepDecay(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> Schedule.stepDecay(10, 0));
        assertThrows(IllegalArgumentException.class, () -> Schedule.cosine(0, 0));
    }
}
