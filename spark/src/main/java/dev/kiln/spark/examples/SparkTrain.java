package dev.kiln.spark.examples;

import dev.kiln.spark.DataParallel;
import dev.kiln.spark.KilnSpark;
import dev.kiln.spark.Trained;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Data-parallel training in Spark local mode: M1 on a synthetic table, one barrier stage of T tasks, gradients
 * averaged by a TCP ring every step, a checkpoint per epoch. Prints the loss per epoch, samples/s and the
 * all-reduce time per step, and saves the trained model.
 * {@code ./kiln run spark-train [--rows N] [--tasks T] [--epochs E] [--batch B] [--out DIR]}
 */
public final class SparkTrain {
    public static void main(String[] args) throws Exception {
        long rows = Long.parseLong(Local.arg(args, "--rows", "16384"));
        int tasks = Integer.parseInt(Local.arg(args, "--tasks", "2"));
        int epochs = Integer.parseInt(Local.arg(args, "--epochs", "3"));
        int batch = Integer.parseInt(Local.arg(args, "--batch", "256"));
        Path out = Path.of(Local.arg(args, "--out", "kiln-out/spark-train"));
        Path ckpt = out.resolve("checkpoints");
        if (Files.isDirectory(ckpt)) try (var files = Files.list(ckpt)) { for (Path p : (Iterable<Path>) files::iterator) Files.delete(p); }
        SparkSession spark = Local.session(tasks);
        try {
            DataParallel cfg = DataParallel.of(tasks, Local.FEATURES, "y", Local.COMPILE).batchSize(batch / tasks).epochs(epochs).checkpoints(ckpt);
            Trained t = KilnSpark.fit(Local.m1(), Local.table(spark, rows, tasks), cfg);
            System.out.printf("M1, %d tasks, global batch %d, %d epochs of %d steps: loss per epoch %s%n", tasks, batch, epochs, t.steps() / epochs,
                    t.history().get("loss").stream().map(l -> String.format("%.4f", l)).toList());
            System.out.printf("%.0f samples/s; all-reduce %.2f ms per step (rank 0)%n", t.samplesPerSecond(), t.allReduceMillisPerStep());
            Path model = out.resolve("m1-trained.kiln");
            t.model().save(model);
            System.out.println("saved " + model + "; checkpoints in " + ckpt);
        } finally {
            spark.stop();
        }
    }
}
