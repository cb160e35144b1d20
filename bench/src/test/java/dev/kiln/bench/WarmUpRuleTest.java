package dev.kiln.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm-up rule ({@link Timed.Rule}, {@link Timed.WarmUp}) on synthetic step-time sequences: where a warm-up ends is
 * worked out by hand from the rule's words, so a change to the rule's logic shows here. Sequences are fed as samples of
 * one step; times are binary fractions so elapsed sums are exact.
 */
class WarmUpRuleTest {
    static final Timed.Rule RULE = Timed.Rule.STANDARD;

    /** Feeds one-step samples of {@code stepSeconds[i]} (the last repeated) until the warm-up ends; returns it. */
    static Timed.WarmUp feed(double[] stepSeconds, long[] jitMs) {
        Timed.WarmUp w = new Timed.WarmUp(RULE, jitMs == null ? -1 : 0);
        double elapsed = 0;
        for (int i = 0; i < 1_000_000; i++) {
            double t = stepSeconds[Math.min(i, stepSeconds.length - 1)];
            elapsed += t;
            if (w.add(1, t, elapsed, jitMs == null ? -1 : jitMs[Math.min(i, jitMs.length - 1)])) return w;
        }
        throw new AssertionError("warm-up never ended");
    }

    /** The sequence of the hand-worked example (bench/python/test_warmup_rule.py uses the same). */
    static final double[] STABILISING = {0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.12, 0.11, 0.105, 0.1, 0.1};

    @Test
    void aStabilisingSequenceEndsWhereTheMediansFirstAgreeWithin3Percent() {
        // Median of samples 12..16 (1-based) = 0.1 s against the median of 7..11 = 0.1 s at sample 17; at sample 16 the five
        // before (6..10: .15 .12 .11 .105 .1) have median 0.11 s (10% off) — 17 is the first that passes, and by then 2.9 s and
        // 17 steps have run, so the time and step minimums are already met.
        Timed.WarmUp w = feed(STABILISING, null);
        assertEquals(17, w.samples());
        assertEquals(17, w.steps());
        assertFalse(w.capHit());
        assertEquals("rule met", w.endedBy());
        assertEquals(0.1, w.perStepSeconds(), 1e-12);
    }

    @Test
    void aStableSequenceStillRunsTheMinimumSecond() {
        // stable from the first sample, 1/1024 s a step: the 1 s minimum ends it at exactly step 1024, not at sample 10
        Timed.WarmUp w = feed(new double[] {1.0 / 1024}, null);
        assertEquals(1024, w.samples());
        assertFalse(w.capHit());
    }

    @Test
    void oneSlowStepInTheLastWindowDoesNotMoveItsMedian() {
        double[] s = new double[80];
        java.util.Arrays.fill(s, 1.0 / 64);
        s[63] = 1.0 / 4; // a 250 ms hiccup (a GC) in sample 64 of 1/64 s samples
        Timed.WarmUp w = feed(s, null);
        // without the hiccup: 64 samples reach 1 s; the hiccup only adds its own time (the minimum second is met sooner)
        assertEquals(64, w.samples());
        assertFalse(w.capHit());
    }

    @Test
    void jitCompilationRestartsTheQuietSecond() {
        // 1/64 s samples: stable and past 1 s at sample 64, but the JIT compiled 5 ms during sample 50 (elapsed 50/64 s):
        // the warm-up waits for a quiet second after it, to elapsed 114/64 s.
        long[] jit = new long[200];
        for (int i = 49; i < jit.length; i++) jit[i] = 5;
        Timed.WarmUp w = feed(new double[] {1.0 / 64}, jit);
        assertEquals(114, w.samples());
        assertFalse(w.capHit());
    }

    @Test
    void jitCompilationWithinTheToleranceDoesNotRestartIt() {
        // 1 ms then 1 more: 2 ms in all, the rule's tolerance for the loop's own bookkeeping
        long[] jit = new long[200];
        for (int i = 19; i < jit.length; i++) jit[i] = i < 39 ? 1 : 2;
        Timed.WarmUp w = feed(new double[] {1.0 / 64}, jit);
        assertEquals(64, w.samples());
    }

    @Test
    void aSequenceThatNeverStabilisesStopsAtTheCapAndIsFlagged() {
        // blocks of five 1/64 s steps and five 1/32 s steps: the last five and the five before are always mostly of
        // different blocks, so their medians are 2x apart; the cap (30 s) ends it: 10 samples take 15/64 s, so 128 periods.
        double[] s = new double[4000];
        for (int i = 0; i < s.length; i++) s[i] = (i / 5) % 2 == 0 ? 1.0 / 64 : 1.0 / 32;
        Timed.WarmUp w = feed(s, null);
        assertTrue(w.capHit());
        assertEquals(1280, w.samples());
        assertTrue(w.endedBy().startsWith("cap hit at 30.0 s: step time not stable"), w.endedBy());
        Map<String, Object> rec = w.record();
        assertEquals("cap", rec.get("ended_by"));
        assertEquals(true, rec.get("cap_hit"));
        assertTrue(String.valueOf(rec.get("unmet")).contains("step time not stable"), String.valueOf(rec.get("unmet")));
    }

    @Test
    void aJitThatNeverGoesQuietStopsAtTheCapAndSaysSo() {
        long[] jit = new long[4000];
        for (int i = 0; i < jit.length; i++) jit[i] = 10L * i; // 10 ms of compilation every sample
        Timed.WarmUp w = feed(new double[] {1.0 / 64}, jit);
        assertTrue(w.capHit());
        assertEquals(30 * 64, w.samples());
        assertEquals(List.of("JIT compiled in the last 1.0 s"), w.record().get("unmet"));
    }

    @Test
    void theTraceKeepsTheColdStepsAndMergesTheRestIntoAtMost32Points() {
        Timed.WarmUp w = feed(new double[] {1.0 / 1024}, null); // 1024 samples
        List<Object> trace = w.trace();
        assertEquals(Timed.WarmUp.TRACE_HEAD + 32, trace.size());
        assertEquals(List.of(1L, 0.001, 0.9766), trace.get(0)); // 1 step, at 1/1024 s, 0.9766 ms
        List<?> last = (List<?>) trace.getLast();
        assertEquals(1024L, last.get(0));
        assertEquals(1.0, (double) last.get(1), 1e-12);
        // 1016 samples after the 8 first, in groups of ceil(1016/32) = 32 (the last of 24): each point is one group's pace
        assertEquals(8L + 32, ((List<?>) trace.get(8)).get(0));
        Timed.WarmUp s = feed(STABILISING, null);
        assertEquals(List.of(1L, 0.5, 500.0), s.trace().get(0));
        assertEquals(List.of(2L, 0.9, 400.0), s.trace().get(1));
        assertEquals(9 + 8, s.trace().size()); // 17 samples: 8 one by one, then 9 groups of one
    }

    @Test
    void samplesGrowToFillTheSampleTimeAtTheLastPace() {
        Timed.WarmUp w = new Timed.WarmUp(RULE, -1);
        assertEquals(1, w.nextSampleSteps());
        w.add(1, 0.5, 0.5, -1);
        assertEquals(1, w.nextSampleSteps()); // slower than 10 ms: one step a sample
        w.add(1, 1.0 / 1024, 0.501, -1);
        assertEquals(10, w.nextSampleSteps()); // about 1 ms a step: ten fill 10 ms (10.24 rounded down)
        w.add(10, 10.0 / (1 << 20), 0.502, -1);
        assertEquals(10_485, w.nextSampleSteps()); // about 1 µs a step: 0.01 × 2^20 = 10485.76
    }

    @Test
    void theRuleTravelsAsTextAndBack() {
        assertEquals(Timed.Rule.STANDARD, Timed.Rule.parse(Timed.Rule.STANDARD.encoded()));
        assertEquals("min_steps=5,min_s=1.0,window=5,tolerance=0.03,jit_quiet_s=1.0,cap_s=30.0,sample_s=0.01,run_s=1.0,run_steps=10",
                Timed.Rule.STANDARD.encoded());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Timed.Rule.parse("min_steps=5,warmup=3"));
        assertTrue(e.getMessage().contains("'warmup=3'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Timed.Rule.parse("min_steps=5"));
    }

    @Test
    void aTimedRunLastsAtLeastItsStepsAndItsSeconds() {
        Timed.Rule rule = new Timed.Rule(5, 1.0, 5, 0.03, 1.0, 30.0, 0.01, 0.05, 10);
        long[] calls = {0};
        // a pace estimate 100x too slow asks for 10 steps first; the run goes on until 0.05 s have passed
        double[] r = Timed.timedRun(() -> calls[0]++, rule, 1.0);
        assertTrue(r[0] >= 10 && r[1] >= 0.05, r[0] + " steps in " + r[1] + " s");
        assertEquals(calls[0], (long) r[0]);
        // a step slower than the run time: still ten steps
        double[] slow = Timed.timedRun(() -> spin(0.01), rule, 0.01);
        assertEquals(10, (long) slow[0]);
        assertTrue(slow[1] >= 0.1, slow[1] + " s");
    }

    private static void spin(double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) Thread.onSpinWait();
    }
}
