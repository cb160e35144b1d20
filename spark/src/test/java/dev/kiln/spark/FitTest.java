package dev.kiln.spark;

import dev.kiln.data.Dataset;
import dev.kiln.graph.Variable;
import dev.kiln.loss.Loss;
import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.optim.Adam;
import dev.kiln.tensor.Shape;
import dev.kiln.train.Fit;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Data-parallel training of M1 (DESIGN.md: 11 -> Dense 512 x3 ReLU -> 1, MAE, Adam) in a barrier stage. */
class FitTest {
    static final int F = 11, GLOBAL_BATCH = 64, STEPS = 5;
    /**
     * Largest |difference| allowed between a weight trained on N replicas and on one. The batch mean is summed in
     * another order (partial means, then the ring's sum), so the gradients differ in the last bits (~1e-9 here), and
     * Adam's step g/(|g|+eps) magnifies that by lr/eps for gradients near eps: with the default eps 1e-8 even one JVM
     * summing 2 x 32 partial gradients instead of 64 rows ends ~5e-3 apart after 10 steps (measured without Spark).
     * So the replicas use eps 1e-4, where the same comparison gives ~2e-8.
     */
    static final double TOLERANCE = 1e-6;
    static final List<String> COLS = new ArrayList<>();
    static { for (int i = 0; i < F; i++) COLS.add("f" + i); }
    static final DataParallel.Compile COMPILE = m -> m.compile(Adam.lr(1e-3).epsilon(1e-4), Loss.mae());

    static SparkSession spark;
    @TempDir Path dir;

    @BeforeAll static void start() { spark = Spark.local(); }

    static Model m1() {
        Model m = Sequential.of(Input.shape(F), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(512).relu(), Dense.of(1)).seed(42);
        COMPILE.accept(m);
        return m;
    }

    /** rows × (F features, label), a smooth target with noise. */
    static float[][] data(int rows) {
        SplittableRandom r = new SplittableRandom(9);
        float[][] d = new float[rows][F + 1];
        for (float[] row : d) {
            double t = 0;
            for (int j = 0; j < F; j++) { row[j] = (float) r.nextGaussian(); t += Math.sin(row[j] * (j + 1) / 3.0); }
            row[F] = (float) (t + 0.1 * r.nextGaussian());
        }
        return d;
    }

    /** The rows as a DataFrame of exactly {@code parts} partitions, partition p holding rows [p·n/parts, (p+1)·n/parts). */
    static org.apache.spark.sql.Dataset<Row> frame(float[][] d, int parts) { return frame(d, parts, spark); }

    static org.apache.spark.sql.Dataset<Row> frame(float[][] d, int parts, SparkSession spark) {
        StructType schema = new StructType();
        for (String c : COLS) schema = schema.add(c, DataTypes.FloatType, false);
        schema = schema.add("y", DataTypes.FloatType, false);
        List<Row> rows = new ArrayList<>();
        for (float[] row : d) {
            Object[] v = new Object[F + 1];
            for (int j = 0; j <= F; j++) v[j] = row[j];
            rows.add(RowFactory.create(v));
        }
        return spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, parts), schema);
    }

    /** One replica trained on the same global batches: step s's batch is every partition's s-th local batch, in rank order. */
    static Model reference(float[][] d, int tasks, int epochs) { return reference(d, tasks, epochs, STEPS); }

    static Model reference(float[][] d, int tasks, int epochs, int steps) {
        int local = GLOBAL_BATCH / tasks, perPart = d.length / tasks;
        float[] x = new float[steps * GLOBAL_BATCH * F], y = new float[steps * GLOBAL_BATCH];
        int at = 0;
        for (int s = 0; s < steps; s++) {
            for (int r = 0; r < tasks; r++) {
                for (int i = 0; i < local; i++, at++) {
                    float[] row = d[r * perPart + s * local + i];
                    System.arraycopy(row, 0, x, at * F, F);
                    y[at] = row[F];
                }
            }
        }
        Model m = m1();
        m.fit(Dataset.of(x, Shape.of(y.length, F), y, Shape.of(y.length, 1)), Fit.epochs(epochs).batchSize(GLOBAL_BATCH).shuffle(false).verbose(false));
        return m;
    }

    static double maxDiff(Model a, Model b) {
        double worst = 0;
        for (int i = 0; i < a.weights().size(); i++) {
            Variable va = a.weights().get(i), vb = b.weights().get(i);
            assertEquals(va.name(), vb.name());
            for (int j = 0; j < va.value().length; j++) worst = Math.max(worst, Math.abs(va.value()[j] - vb.value()[j]));
        }
        return worst;
    }

    static void assertBitwiseEqual(Model a, Model b) {
        for (int i = 0; i < a.weights().size(); i++) {
            assertArrayEquals(a.weights().get(i).value(), b.weights().get(i).value(), a.weights().get(i).name());
        }
    }

    private void trainsAsOneReplica(int tasks) {
        float[][] d = data(GLOBAL_BATCH * STEPS);
        Model start = m1();
        Trained t = KilnSpark.fit(start, frame(d, tasks), DataParallel.of(tasks, COLS, "y", COMPILE).batchSize(GLOBAL_BATCH / tasks).epochs(2));
        Model ref = reference(d, tasks, 2);
        double diff = maxDiff(ref, t.model());
        System.out.printf("kiln-spark: M1, %d tasks, 2 epochs x %d steps: max |weight difference| vs one replica = %.3g (tolerance %.0e)%n", tasks, STEPS, diff, TOLERANCE);
        assertTrue(diff <= TOLERANCE, "max |difference| " + diff);
        assertTrue(maxDiff(start, t.model()) > 1e-3, "training moved the weights");
        assertEquals(2 * STEPS, t.model().iterations());
        assertEquals(2, t.history().epochs());
        assertTrue(t.history().get("loss").get(1) < t.history().get("loss").get(0), "loss fell: " + t.history().get("loss"));
    }

    @Test void twoTasksTrainAsOneReplicaOnTheGlobalBatches() { trainsAsOneReplica(2); }

    @Test void fourTasksTrainAsOneReplicaOnTheGlobalBatches() { trainsAsOneReplica(4); }

    @Test void aFailedTaskIsRetriedAndTrainingResumesFromTheCheckpoint() throws Exception {
        float[][] d = data(GLOBAL_BATCH * STEPS);
        Path a = dir.resolve("a"), b = dir.resolve("b");
        DataParallel cfg = DataParallel.of(2, COLS, "y", COMPILE).batchSize(GLOBAL_BATCH / 2).epochs(3);
        // rank 1 throws on global step 7: epoch 2, step 2 (0-based), after epoch 1's checkpoint
        Trained faulty = KilnSpark.fit(m1(), frame(d, 2), cfg.checkpoints(a).fault(DataParallel.Fault.exception(1, STEPS + 2)));
        List<String> ev = faulty.events();
        assertTrue(ev.stream().anyMatch(l -> l.matches("attempt 0: task rank 1 \\(127\\.0\\.0\\.1:\\d+, stage attempt 0\\) failed at epoch 2, step 2: injected fault.*")), "events: " + ev);
        assertTrue(ev.stream().anyMatch(l -> l.equals("attempt 1: resumed from checkpoint " + a.resolve("epoch-0001.kiln") + " (epoch 1 of 3 done, step " + STEPS + ")")), "events: " + ev);
        assertEquals(3 * STEPS, faulty.model().iterations());
        assertEquals(3, faulty.history().epochs());

        // an uninterrupted run resumed from the same checkpoint: the same bits
        Files.createDirectories(b);
        Files.copy(a.resolve("epoch-0001.kiln"), b.resolve("epoch-0001.kiln"));
        Files.copy(a.resolve("epoch-0001.loss"), b.resolve("epoch-0001.loss"));
        Trained resumed = KilnSpark.fit(m1(), frame(d, 2), cfg.checkpoints(b));
        assertBitwiseEqual(resumed.model(), faulty.model());
        assertEquals(faulty.history().get("loss"), resumed.history().get("loss"));
        // and a run that never failed nor resumed: the same bits too (checkpoints keep the optimizer state and step)
        assertBitwiseEqual(KilnSpark.fit(m1(), frame(d, 2), cfg).model(), faulty.model());
    }

    @Test void aPeerThatStopsAnsweringIsNamedWithinTheTimeout() throws Exception {
        float[][] d = data(GLOBAL_BATCH * STEPS);
        Path a = dir.resolve("hang");
        DataParallel cfg = DataParallel.of(2, COLS, "y", COMPILE).batchSize(GLOBAL_BATCH / 2).epochs(2).timeoutMillis(5000).checkpoints(a)
                .fault(DataParallel.Fault.hang(1, STEPS + 1, 15_000));
        Trained t = KilnSpark.fit(m1(), frame(d, 2), cfg);
        List<String> ev = t.events();
        assertTrue(ev.stream().anyMatch(l -> l.matches("attempt 0: task rank 0 .* peer rank 1 \\(127\\.0\\.0\\.1:\\d+\\) sent nothing for 5000 ms.*")), "events: " + ev);
        // the stage retried, and training resumed from the last checkpoint (epoch 1: the hang was in epoch 2)
        assertTrue(ev.stream().anyMatch(l -> l.matches("attempt [1-9]: resumed from checkpoint " + java.util.regex.Pattern.quote(a.resolve("epoch-0001.kiln").toString()) + ".*")), "events: " + ev);
        assertEquals(2 * STEPS, t.model().iterations());
    }

    @Test void aMissingTrainingColumnIsNamed() {
        List<String> cols = new ArrayList<>(COLS);
        cols.set(0, "nope");
        KilnSparkException e = assertThrows(KilnSparkException.class, () -> KilnSpark.fit(m1(), frame(data(8), 1), DataParallel.of(1, cols, "y", COMPILE)));
        assertTrue(e.getMessage().startsWith("column 'nope' is missing from the training DataFrame"), e.getMessage());
    }
}

