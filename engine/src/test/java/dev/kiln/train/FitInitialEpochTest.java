package dev.kiln.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class FitInitialEpochTest {
    @Test
    void initialEpochDefaultsToZeroAndSurvivesOtherWithers() {
        assertEquals(0, Fit.epochs(3).initialEpoch());
        assertEquals(2, Fit.epochs(4).initialEpoch(2).batchSize(8).seed(5).initialEpoch());
    }

    @Test
    void initialEpochAtOrPastTheLastEpochIsRejectedWithTheRule() {
        var e = assertThrows(IllegalArgumentException.class, () -> Fit.epochs(4).initialEpoch(4));
        assertTrue(e.getMessage().contains("initial epoch 4") && e.getMessage().contains("epochs = 4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Fit.epochs(4).initialEpoch(-1));
    }
}
