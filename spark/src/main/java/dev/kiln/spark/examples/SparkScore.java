package dev.kiln.spark.examples;

import dev.kiln.nn.Model;
import dev.kiln.serve.Predictor;
import dev.kiln.spark.KilnSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Distributed scoring in Spark local mode: writes a Parquet table, scores it with a saved model (one Predictor per
 * executor JVM, batches of rows), checks the first rows against a Predictor in this JVM and prints rows/s.
 * {@code ./kiln run spark-score [--rows N] [--tasks T] [--out DIR]}
 */
public final class SparkScore {
    public static void main(String[] args) throws Exception {
        long rows = Long.parseLong(Local.arg(args, "--rows", "200000"));
        int tasks = Integer.parseInt(Local.arg(args, "--tasks", "2"));
        Path out = Path.of(Local.arg(args, "--out", "kiln-out/spark-score"));
        Files.createDirectories(out);
        SparkSession spark = Local.session(tasks);
        try {
            Model m = Local.m1();
            Path model = out.resolve("m1.kiln");
            m.save(model);
            Path parquet = out.resolve("rows.parquet");
            Local.table(spark, rows, tasks).write().mode("overwrite").parquet(parquet.toString());
            Dataset<Row> scored = KilnSpark.predict(spark.read().parquet(parquet.toString()), model, Local.FEATURES, "prediction");
            long t0 = System.nanoTime();
            scored.write().format("noop").mode("overwrite").save();
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("scored %,d Parquet rows with M1 in %d tasks: %.1f s, %,.0f rows/s%n", rows, tasks, s, rows / s);
            List<Row> first = scored.limit(5).collectAsList();
            try (Predictor p = Predictor.load(model)) {
                for (Row r : first) {
                    float[] x = new float[Local.F];
                    for (int j = 0; j < Local.F; j++) x[j] = r.getFloat(j);
                    System.out.printf("  y %8.4f   prediction %8.4f   (this JVM's Predictor: %8.4f)%n", r.getFloat(Local.F), r.getFloat(Local.F + 1), p.predict(x)[0]);
                }
            }
        } finally {
            spark.stop();
        }
    }
}
