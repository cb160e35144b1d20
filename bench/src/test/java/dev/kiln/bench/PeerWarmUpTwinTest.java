package dev.kiln.bench;

import dev.kiln.io.Json;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PyTorch peer's twin of the warm-up rule (bench/python/peer_bench.py) against {@link Timed.WarmUp}: its own unit
 * tests, run with Java's {@link Timed.Rule#STANDARD}, and the same seeded step-time sequences fed to both, which must end
 * at the same sample with the same verdict. Needs python3 (standard library only); without it the tests are skipped
 * (and say why), never passed.
 */
class PeerWarmUpTwinTest {
    private static final Path PYTHON_DIR = Path.of("python").toAbsolutePath();

    private static String python() {
        for (String p : List.of("/usr/bin/python3", "/usr/local/bin/python3")) if (Files.isExecutable(Path.of(p))) return p;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "python3"))) return Path.of(dir, "python3").toString();
        }
        return null;
    }

    private static String requirePython() {
        String py = python();
        if (py == null) System.out.println("PeerWarmUpTwinTest skipped: no python3 (/usr/bin/python3 or on PATH) to run bench/python's rule twin");
        Assumptions.assumeTrue(py != null, "no python3 to run bench/python's warm-up rule twin");
        assertTrue(Files.isRegularFile(PYTHON_DIR.resolve("peer_bench.py")), "bench/python/peer_bench.py is missing (run from the bench module)");
        return py;
    }

    /** Runs python3 with {@code args} in bench/python; returns {exit code, output}. */
    private static Object[] run(String py, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(py, "-B"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(PYTHON_DIR.toFile()).redirectErrorStream(true);
        pb.environment().put("KILN_RULE", Timed.Rule.STANDARD.encoded());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python3 did not finish in 120 s: " + out);
        return new Object[] {p.exitValue(), out};
    }

    @Test
    void thePythonRuleTestsPassWithJavasRule() throws Exception {
        Object[] r = run(requirePython(), List.of("-m", "unittest", "-v", "test_warmup_rule"));
        assertEquals(0, r[0], "bench/python/test_warmup_rule.py failed:\n" + r[1]);
        assertTrue(((String) r[1]).contains("Ran 9 tests"), (String) r[1]);
    }

    @Test
    void quickModeTimesTheSameGemmShapesOnBothSides() throws Exception {
        Object[] r = run(requirePython(), List.of("-c", "import json, peer_bench as p; print(json.dumps(list(p.QUICK_GEMM_LABELS)))"));
        assertEquals(0, r[0], (String) r[1]);
        String out = ((String) r[1]).strip();
        assertEquals(GemmBench.QUICK_MODEL_SHAPES, Bench.list(Json.parse(out.substring(out.lastIndexOf('\n') + 1))));
        List<String> quick = new ArrayList<>();
        for (GemmBench.GemmShape s : GemmBench.shapes(List.of("models"), true)) quick.add(s.label());
        assertEquals(GemmBench.QUICK_MODEL_SHAPES, quick);
    }

    @Test
    void javaAndPythonEndTheSameWarmUpsAtTheSameSample() throws Exception {
        String py = requirePython();
        // Seeded sequences (10 to 100 ms a step): a decay from a cold first step to a plateau, with noise and the odd
        // spike, or ones that never settle (a climb of 1% a sample, or alternating levels) and so end at the cap.
        SplittableRandom rnd = new SplittableRandom(20);
        List<Object> seqs = new ArrayList<>();
        List<List<Object>> javaEnds = new ArrayList<>();
        for (int s = 0; s < 24; s++) {
            double plateau = Math.pow(10, rnd.nextDouble(-2, -1)), cold = plateau * rnd.nextDouble(1, 30);
            double tau = rnd.nextDouble(1, 40), noise = rnd.nextDouble(0, 0.06);
            int kind = s % 4;
            List<Double> seq = new ArrayList<>();
            double elapsed = 0;
            while (elapsed < 31) {
                int i = seq.size();
                double t;
                if (kind == 1) t = plateau * Math.pow(1.01, i % 200); // climbs 1% a sample (5% a window), from the plateau every 200
                else if (kind == 2) t = plateau * ((i / 5) % 2 == 0 ? 1 : 1.5); // alternating levels: the two windows always differ
                else {
                    t = (plateau + (cold - plateau) * Math.exp(-i / tau)) * (1 + noise * (rnd.nextDouble() - 0.5));
                    if (rnd.nextDouble() < 0.02) t *= 5; // a spike
                }
                seq.add(t);
                elapsed += t;
            }
            seqs.add(seq);
            Timed.WarmUp w = new Timed.WarmUp(Timed.Rule.STANDARD, -1);
            double el = 0;
            for (double t : seq) {
                el += t;
                if (w.add(1, t, el, -1)) break;
            }
            javaEnds.add(List.of((long) w.samples(), w.capHit(), w.done()));
            if (kind == 1 || kind == 2) assertTrue(w.capHit(), "sequence " + s + " never settles, yet ended by the rule at sample " + w.samples());
        }
        Path in = Files.createTempFile("warmup-twin-", ".json");
        try {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("rule", Timed.Rule.STANDARD.encoded());
            d.put("seqs", seqs);
            Files.writeString(in, Json.write(d));
            String script = String.join("\n",
                    "import json, sys",
                    "import peer_bench as p",
                    "d = json.load(open(sys.argv[1]))",
                    "r = p.parse_rule(d['rule'])",
                    "out = []",
                    "for seq in d['seqs']:",
                    "    w, el = p.WarmUp(r), 0.0",
                    "    for t in seq:",
                    "        el += t",
                    "        if w.add(1, t, el):",
                    "            break",
                    "    out.append([len(w.steps), w.cap_hit, w.done])",
                    "print(json.dumps(out))");
            Object[] r = run(py, List.of("-c", script, in.toString()));
            assertEquals(0, r[0], "python twin failed:\n" + r[1]);
            String out = ((String) r[1]).strip();
            List<Object> pyEnds = Bench.list(Json.parse(out.substring(out.lastIndexOf('\n') + 1)));
            assertEquals(javaEnds.size(), pyEnds.size());
            int capped = 0;
            for (int i = 0; i < javaEnds.size(); i++) {
                List<Object> p = Bench.list(pyEnds.get(i));
                List<Object> j = javaEnds.get(i);
                assertEquals(j, List.of(((Number) p.get(0)).longValue(), p.get(1), p.get(2)), "sequence " + i + ": Java " + j + ", Python " + p);
                if ((boolean) j.get(1)) capped++;
            }
            // the set covers both endings
            assertTrue(capped > 0 && capped < javaEnds.size(), capped + " of " + javaEnds.size() + " capped");
        } finally {
            Files.deleteIfExists(in);
        }
    }
}
