"""The peer's warm-up rule (peer_bench.WarmUp, timed_run) on synthetic step-time sequences: the twin of
bench/src/test/java/dev/kiln/bench/WarmUpRuleTest.java, with the same sequences and the same hand-worked ends.

    /usr/bin/python3 -m unittest discover -s bench/python -p 'test_*.py'

(WarmUpRuleTest runs it from `./kiln test` when python3 is present.) Needs only the standard library."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_bench  # noqa: E402

# Java's Timed.Rule.STANDARD.encoded(); WarmUpRuleTest passes the real one in KILN_RULE, so a change there shows here.
STANDARD = "min_steps=5,min_s=1.0,window=5,tolerance=0.03,jit_quiet_s=1.0,cap_s=30.0,sample_s=0.01,run_s=1.0,run_steps=10"
RULE = peer_bench.parse_rule(os.environ.get("KILN_RULE", STANDARD))
STABILISING = [0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.12, 0.11, 0.105, 0.1, 0.1]


def feed(step_seconds, rule=RULE):
    """Feeds one-step samples of step_seconds[i] (the last repeated) until the warm-up ends; returns it."""
    w = peer_bench.WarmUp(rule)
    elapsed = 0.0
    for i in range(1_000_000):
        t = step_seconds[min(i, len(step_seconds) - 1)]
        elapsed += t
        if w.add(1, t, elapsed):
            return w
    raise AssertionError("warm-up never ended")


class WarmUpRuleTest(unittest.TestCase):
    def test_a_stabilising_sequence_ends_where_the_medians_first_agree_within_3_percent(self):
        w = feed(STABILISING)
        self.assertEqual(17, len(w.steps))
        self.assertEqual(17, w.total_steps)
        self.assertFalse(w.cap_hit)
        self.assertEqual("rule met", w.ended_by())
        self.assertAlmostEqual(0.1, w.per_step_seconds(), delta=1e-12)

    def test_a_stable_sequence_still_runs_the_minimum_second(self):
        self.assertEqual(1024, len(feed([1 / 1024]).steps))

    def test_one_slow_step_in_the_last_window_does_not_move_its_median(self):
        s = [1 / 64] * 80
        s[63] = 1 / 4
        w = feed(s)
        self.assertEqual(64, len(w.steps))
        self.assertFalse(w.cap_hit)

    def test_a_sequence_that_never_stabilises_stops_at_the_cap_and_is_flagged(self):
        s = [1 / 64 if (i // 5) % 2 == 0 else 1 / 32 for i in range(4000)]
        w = feed(s)
        self.assertTrue(w.cap_hit)
        self.assertEqual(1280, len(w.steps))
        self.assertTrue(w.ended_by().startswith("cap hit at 30.0 s: step time not stable"), w.ended_by())
        rec = w.record()
        self.assertEqual("cap", rec["ended_by"])
        self.assertTrue(rec["cap_hit"])
        self.assertIn("step time not stable", rec["unmet"][0])

    def test_the_trace_keeps_the_cold_steps_and_merges_the_rest_into_at_most_32_points(self):
        trace = feed([1 / 1024]).trace()
        self.assertEqual(peer_bench.TRACE_HEAD + 32, len(trace))
        self.assertEqual([1, 0.001, 0.9766], trace[0])
        self.assertEqual(1024, trace[-1][0])
        self.assertEqual(1.0, trace[-1][1])
        self.assertEqual(8 + 32, trace[8][0])
        s = feed(STABILISING).trace()
        self.assertEqual([1, 0.5, 500.0], s[0])
        self.assertEqual([2, 0.9, 400.0], s[1])
        self.assertEqual(17, len(s))

    def test_samples_grow_to_fill_the_sample_time_at_the_last_pace(self):
        w = peer_bench.WarmUp(RULE)
        self.assertEqual(1, w.next_sample_steps())
        w.add(1, 0.5, 0.5)
        self.assertEqual(1, w.next_sample_steps())
        w.add(1, 1 / 1024, 0.501)
        self.assertEqual(10, w.next_sample_steps())
        w.add(10, 10 / (1 << 20), 0.502)
        self.assertEqual(10485, w.next_sample_steps())

    def test_the_rule_needs_every_key_and_no_other(self):
        self.assertEqual(set(peer_bench.RULE_KEYS), set(RULE))
        with self.assertRaisesRegex(ValueError, "'warmup=3'"):
            peer_bench.parse_rule("min_steps=5,warmup=3")
        with self.assertRaisesRegex(ValueError, "missing"):
            peer_bench.parse_rule("min_steps=5")

    def test_a_timed_run_lasts_at_least_its_steps_and_its_seconds(self):
        rule = dict(RULE, run_s=0.05, run_steps=10)
        calls = [0]

        def count():
            calls[0] += 1
        n, el = peer_bench.timed_run(count, rule, 1.0)
        self.assertTrue(n >= 10 and el >= 0.05, (n, el))
        self.assertEqual(calls[0], n)
        n, el = peer_bench.timed_run(lambda: spin(0.01), rule, 0.01)
        self.assertEqual(10, n)
        self.assertGreaterEqual(el, 0.1)


class QuickGemmShapesTest(unittest.TestCase):
    def test_quick_mode_times_one_shape_per_model_and_full_mode_all(self):
        # (main's quick filter tested the option after overwriting it with the shape list, so it never applied)
        quick = peer_bench.gemm_shapes(None, True)
        self.assertEqual(list(peer_bench.QUICK_GEMM_LABELS), [x[0] for x in quick])
        self.assertEqual(len(peer_bench.MODEL_GEMM_SHAPES), len(peer_bench.gemm_shapes(None, False)))
        self.assertEqual([("64x32x9", 64, 32, 9)], peer_bench.gemm_shapes("64x32x9", True))


def spin(seconds):
    import time
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


if __name__ == "__main__":
    unittest.main()
