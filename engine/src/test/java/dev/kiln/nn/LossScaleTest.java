package dev.kiln.nn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** GradScaler's rules: halve and skip on a non-finite step, double after the growth interval of finite ones. */
class LossScaleTest {
    @Test
    void aNonFiniteStepIsSkippedHalvesTheScaleAndRestartsTheCount() {
        LossScale s = LossScale.initial(1024f).growthInterval(3);
        assertTrue(s.update(true));
        assertTrue(s.update(true));
        assertEquals(2, s.goodSteps());
        assertFalse(s.update(false), "the optimizer must not step");
        assertEquals(512f, s.scale());
        assertEquals(0, s.goodSteps());
        assertEquals(1, s.skippedSteps());
    }

    @Test
    void growthIntervalFiniteStepsInARowDoubleTheScale() {
        LossScale s = LossScale.initial(8f).growthInterval(4);
        for (int i = 0; i < 3; i++) assertTrue(s.update(true));
        assertEquals(8f, s.scale(), "not before the interval");
        assertTrue(s.update(true));
        assertEquals(16f, s.scale());
        for (int i = 0; i < 4; i++) s.update(true);
        assertEquals(32f, s.scale());
        assertEquals(0, s.skippedSteps());
    }

    @Test
    void theDefaultsArePyTorchs() {
        LossScale s = LossScale.dynamic();
        assertEquals(65536f, s.scale());
        assertEquals(2000, s.growthIntervalSteps());
    }

    @Test
    void theScaleStaysFiniteAndPositive() {
        LossScale s = LossScale.initial(Float.MIN_NORMAL);
        s.update(false);
        assertEquals(Float.MIN_NORMAL, s.scale());
        LossScale big = LossScale.initial(0x1p127f).growthInterval(1);
        big.update(true);
        assertEquals(0x1p127f, big.scale(), "doubling past the float range is not taken");
        assertThrows(IllegalArgumentException.class, () -> LossScale.initial(0f));
        assertThrows(IllegalArgumentException.class, () -> LossScale.initial(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> LossScale.dynamic().growthInterval(0));
    }
}
