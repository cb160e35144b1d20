package dev.kiln.bench;

import dev.kiln.nn.Model;
import dev.kiln.serve.Predictor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 17's acceptance figure for {@link Predictor}: {@code --threads} threads each make {@code --predictions}
 * single-row predictions of M1 and of M3 on one predictor at once, and every answer must equal, bit for bit, the
 * answer to the same row asked single-threaded. Rows are drawn from a seed per prediction, so nothing is stored.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp ... dev.kiln.bench.PredictorCheck [--threads 16] [--predictions 10000] [--models M1,M3]</pre>
 *
 * Prints, per model, the predictions compared, the mismatches and the wall time; exits 1 on any mismatch.
 */
public final class PredictorCheck {
    private PredictorCheck() {}

    public static void main(String[] args) throws Exception {
        int threads = 16, predictions = 10_000;
        List<String> models = List.of("M1", "M3");
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) usage("option " + args[i] + " needs a value");
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--predictions" -> predictions = Integer.parseInt(args[i + 1]);
                case "--models" -> models = Arrays.asList(args[i + 1].split(","));
                default -> usage("unknown option " + args[i]);
            }
        }
        long mismatches = 0;
        for (String name : models) mismatches += check(name, BenchModels.of(name).model(), threads, predictions);
        if (mismatches > 0) System.exit(1);
    }

    private static void usage(String what) {
        System.err.println("PredictorCheck: " + what + "; usage: PredictorCheck [--threads N] [--predictions N] [--models M1,M3]");
        System.exit(2);
    }

    static float[] row(int inputSize, long index) {
        SplittableRandom r = new SplittableRandom(0x9E3779B97F4A7C15L * (index + 1));
        float[] x = new float[inputSize];
        for (int i = 0; i < inputSize; i++) x[i] = (float) r.nextDouble(-1, 1);
        return x;
    }

    static long check(String name, Model model, int threads, int predictions) throws Exception {
        long total = (long) threads * predictions;
        try (Predictor p = Predictor.of(model, threads, Predictor.DEFAULT_MAX_BATCH)) {
            int in = p.inputSize(), out = p.outputSize();
            float[] concurrent = new float[Math.toIntExact(total * out)];
            long t0 = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long first = (long) t * predictions;
                    int n = predictions;
                    fs.add(pool.submit(() -> {
                        float[] y = new float[out];
                        for (long i = first; i < first + n; i++) {
                            p.predict(row(in, i), 1, y);
                            System.arraycopy(y, 0, concurrent, (int) (i * out), out);
                        }
                    }));
                }
                for (Future<?> f : fs) f.get();
            } finally {
                pool.shutdownNow();
            }
            double concurrentS = (System.nanoTime() - t0) / 1e9;
            AtomicLong mismatches = new AtomicLong();
            long t1 = System.nanoTime();
            float[] y = new float[out];
            for (long i = 0; i < total; i++) {
                p.predict(row(in, i), 1, y);
                for (int k = 0; k < out; k++) {
                    if (Float.floatToRawIntBits(y[k]) != Float.floatToRawIntBits(concurrent[(int) (i * out + k)])) {
                        if (mismatches.incrementAndGet() <= 5) {
                            System.out.println(name + ": prediction " + i + " output " + k + ": single-threaded " + y[k] + ", concurrent " + concurrent[(int) (i * out + k)]);
                        }
                    }
                }
            }
            double singleS = (System.nanoTime() - t1) / 1e9;
            System.out.printf("%s: %d threads x %d single-row predictions: %d values compared, %d differ in any bit; concurrent %.1f s, single-threaded %.1f s; programs %s%n",
                    name, threads, predictions, total * out, mismatches.get(), concurrentS, singleS, p.programs());
            return mismatches.get();
        }
    }
}
