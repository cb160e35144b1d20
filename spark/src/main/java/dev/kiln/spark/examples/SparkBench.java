package dev.kiln.spark.examples;

import dev.kiln.nn.Model;
import dev.kiln.spark.DataParallel;
import dev.kiln.spark.KilnSpark;
import dev.kiln.spark.Trained;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * kiln-spark's figures in local mode: scoring rows/s and M1 training samples/s for 1, 2 and 4 tasks, and the ring
 * all-reduce time per step. One session of 4 slots; each figure is the best of {@code --repeats} runs after a warm-up.
 * {@code ./kiln run spark-bench [--rows N] [--steps S] [--repeats R]}
 */
public final class SparkBench {
    public static void main(String[] args) throws Exception {
        long rows = Long.parseLong(Local.arg(args, "--rows", "400000"));
        int steps = Integer.parseInt(Local.arg(args, "--steps", "20"));
        int repeats = Integer.parseInt(Local.arg(args, "--repeats", "2"));
        Path dir = Files.createTempDirectory("kiln-spark-bench");
        SparkSession spark = Local.session(4);
        try {
            System.out.printf("machine: %d processors; JDK %s%n", Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
            Model m = Local.m1();
            Path model = dir.resolve("m1.kiln");
            m.save(model);
            System.out.println("scoring M1, " + rows + " rows cached in memory, batches of " + KilnSpark.DEFAULT_BATCH + ":");
            for (int tasks : new int[] {1, 2, 4}) {
                Dataset<Row> df = Local.table(spark, rows, tasks).cache();
                df.count();
                double best = Double.MAX_VALUE;
                for (int r = 0; r <= repeats; r++) {
                    long t0 = System.nanoTime();
                    KilnSpark.predict(df, model, Local.FEATURES, "p").write().format("noop").mode("overwrite").save();
                    if (r > 0) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                }
                df.unpersist();
                System.out.printf("  %d task(s): %,10.0f rows/s%n", tasks, rows / best);
            }
            int global = 256;
            System.out.println("training M1, global batch " + global + ", " + steps + " steps:");
            for (int tasks : new int[] {1, 2, 4}) {
                Dataset<Row> df = Local.table(spark, (long) global * steps, tasks).cache();
                df.count();
                double bestRate = 0, reduce = 0;
                for (int r = 0; r <= repeats; r++) {
                    Trained t = KilnSpark.fit(Local.m1(), df, DataParallel.of(tasks, Local.FEATURES, "y", Local.COMPILE).batchSize(global / tasks).epochs(1));
                    if (r > 0 && t.samplesPerSecond() > bestRate) { bestRate = t.samplesPerSecond(); reduce = t.allReduceMillisPerStep(); }
                }
                df.unpersist();
                System.out.printf("  %d task(s): %,8.0f samples/s; all-reduce %6.2f ms per step (%.1f MB of gradients)%n", tasks, bestRate, reduce,
                        Local.m1().trainableWeights().stream().mapToLong(v -> v.shape().size()).sum() * 4 / 1e6);
            }
        } finally {
            spark.stop();
        }
    }
}
