package dev.kiln.spark;

import dev.kiln.nn.Model;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Executors in JVMs of their own: Spark's local-cluster mode (a master and two workers in this JVM, each worker
 * starting its executor as a child process, stopped with the session). Scoring and a 2-task barrier stage whose
 * ring connects two processes.
 */
class SeparateJvmTest {
    static SparkSession spark;
    @TempDir static Path dir;

    @BeforeAll static void start() throws Exception {
        String home = System.getenv("SPARK_HOME");
        assertNotNull(home, "SPARK_HOME is set by the spark module's surefire configuration");
        java.nio.file.Files.createDirectories(Path.of(home, "jars"));
        Spark.stop();
        String opens = System.getProperty("kiln.spark.jvmArgs", "");
        spark = SparkSession.builder().appName("kiln-spark-cluster-test")
                .master("local-cluster[2,1,1024]")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                // the executors run this test's class path and the JVM flags Kiln and Spark need
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED " + opens)
                .config("spark.stage.maxConsecutiveAttempts", "2")
                .getOrCreate();
        spark.sparkContext().setLogLevel("ERROR");
    }

    @AfterAll static void stop() {
        if (spark != null) spark.stop();
    }

    @Test void scoringAndTrainingRunInExecutorJvmsOfTheirOwn() throws Exception {
        long driver = ProcessHandle.current().pid();
        List<Long> pids = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(List.of(1, 2, 3, 4), 4)
                .mapPartitions(it -> List.of(ProcessHandle.current().pid()).iterator()).collect();
        Set<Long> executors = new HashSet<>(pids);
        assertFalse(executors.contains(driver), "tasks ran in the driver JVM");
        assertEquals(2, executors.size(), "two executor JVMs: " + executors);

        // scoring: rows scored in the executors match this JVM's model
        Model m = FitTest.m1();
        Path file = dir.resolve("m1.kiln");
        m.save(file);
        float[][] d = FitTest.data(256);
        org.apache.spark.sql.Dataset<Row> df = FitTest.frame(d, 2, spark);
        List<Row> scored = KilnSpark.predict(df, file, FitTest.COLS, "p", 64, KilnSpark.Ship.BROADCAST).collectAsList();
        float[] x = new float[256 * FitTest.F];
        for (int i = 0; i < 256; i++) System.arraycopy(d[i], 0, x, i * FitTest.F, FitTest.F);
        float[] want = m.predict(x, 64);
        for (int i = 0; i < 256; i++) assertEquals(want[i], scored.get(i).getFloat(FitTest.F + 1), 1e-5, "row " + i);

        // training: a 2-task barrier stage across two processes, equal to one replica on the global batches
        Trained t = KilnSpark.fit(FitTest.m1(), FitTest.frame(d, 2, spark), DataParallel.of(2, FitTest.COLS, "y", FitTest.COMPILE).batchSize(32).epochs(1).stepsPerEpoch(4));
        Model ref = FitTest.reference(java.util.Arrays.copyOf(d, 256), 2, 1, 4);
        double diff = FitTest.maxDiff(ref, t.model());
        System.out.printf("kiln-spark: local-cluster, 2 executor JVMs, M1 4 steps: max |weight difference| vs one replica = %.3g%n", diff);
        assertTrue(diff <= FitTest.TOLERANCE, "max |difference| " + diff);
    }
}
