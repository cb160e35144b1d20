package dev.kiln.spark;

import dev.kiln.nn.Dense;
import dev.kiln.nn.Input;
import dev.kiln.nn.Model;
import dev.kiln.nn.Sequential;
import dev.kiln.serve.Predictor;
import org.apache.spark.sql.Dataset;
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
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PredictTest {
    static final int FEATURES = 11;
    static final List<String> COLS = new ArrayList<>();
    static { for (int i = 0; i < FEATURES; i++) COLS.add("f" + i); }

    @TempDir static Path dir;
    static Path modelFile;
    static SparkSession spark;

    @BeforeAll static void setUp() throws Exception {
        spark = Spark.local();
        Model m = Sequential.of(Input.shape(FEATURES), Dense.of(32).relu(), Dense.of(16).relu(), Dense.of(1)).seed(5);
        modelFile = dir.resolve("scorer.kiln");
        m.save(modelFile);
    }

    /** The acceptance run: a million rows from a Parquet file, row for row the outputs of one Predictor in this JVM. */
    @Test void millionParquetRowsMatchASingleJvmPredictor() throws Exception {
        Path parquet = dir.resolve("rows.parquet");
        StringBuilder select = new StringBuilder("id");
        for (int i = 0; i < FEATURES; i++) select.append(", cast(rand(").append(i + 1).append(") * 4 - 2 as float) as f").append(i);
        spark.range(0, 1_000_000, 1, 4).selectExpr(select.toString().split(", ")).write().parquet(parquet.toString());

        Dataset<Row> scored = KilnSpark.predict(spark.read().parquet(parquet.toString()), modelFile, COLS, "prediction", 2048, KilnSpark.Ship.BROADCAST);
        try (Predictor reference = Predictor.of(Model.load(modelFile), 1, 1024)) {
            int batch = 1024;
            float[] x = new float[batch * FEATURES], y = new float[batch], got = new float[batch];
            long[] id = new long[batch];
            long rows = 0;
            java.util.BitSet ids = new java.util.BitSet(1_000_000);
            int n = 0;
            for (Iterator<Row> it = scored.toLocalIterator(); it.hasNext(); ) {
                Row r = it.next();
                for (int j = 0; j < FEATURES; j++) x[n * FEATURES + j] = r.getFloat(1 + j);
                got[n] = r.getFloat(1 + FEATURES);
                id[n++] = r.getLong(0);
                if (n == batch || !it.hasNext()) {
                    reference.predict(x, n, y);
                    for (int i = 0; i < n; i++) {
                        if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(y[i])) fail("row id " + id[i] + ": Spark gave " + got[i] + ", the single-JVM Predictor " + y[i]);
                        ids.set((int) id[i]);
                    }
                    rows += n;
                    n = 0;
                }
            }
            assertEquals(1_000_000, rows);
            assertEquals(1_000_000, ids.cardinality(), "every row once");
        }
    }

    @Test void arrayColumnOfInputsWorksToo() throws Exception {
        StructType schema = new StructType().add("v", DataTypes.createArrayType(DataTypes.DoubleType));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            List<Object> v = new ArrayList<>();
            for (int j = 0; j < FEATURES; j++) v.add((double) (i - j) / 7);
            rows.add(RowFactory.create(scala.jdk.javaapi.CollectionConverters.asScala(v).toSeq()));
        }
        List<Row> out = KilnSpark.predict(spark.createDataFrame(rows, schema), modelFile, List.of("v"), "p").collectAsList();
        try (Predictor reference = Predictor.load(modelFile)) {
            for (int i = 0; i < 10; i++) {
                float[] x = new float[FEATURES];
                for (int j = 0; j < FEATURES; j++) x[j] = (float) ((double) (i - j) / 7);
                assertEquals(reference.predict(x)[0], out.get(i).getFloat(1), 1e-6);
            }
        }
    }

    private static Dataset<Row> small(Object badValue, int badRow) {
        StructType schema = new StructType();
        for (int j = 0; j < FEATURES; j++) schema = schema.add("f" + j, j == 3 && badValue instanceof String ? DataTypes.StringType : DataTypes.DoubleType, true);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Object[] v = new Object[FEATURES];
            for (int j = 0; j < FEATURES; j++) v[j] = j == 3 && badValue instanceof String ? (i == badRow ? badValue : String.valueOf(i)) : (Object) (double) i;
            rows.add(RowFactory.create(v));
        }
        return spark.createDataFrame(rows, schema).coalesce(1);
    }

    private static String failure(Runnable r) {
        Exception e = assertThrows(Exception.class, r::run);
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof KilnSparkException) return t.getMessage();
        return e.getMessage(); // Spark's job failure carries the task's exception as text
    }

    @Test void missingColumnNamesIt() {
        List<String> cols = new ArrayList<>(COLS);
        cols.set(4, "f_missing");
        String m = failure(() -> KilnSpark.predict(small(null, -1), modelFile, cols, "p").collectAsList());
        assertTrue(m.contains("column 'f_missing' is missing from the DataFrame") && m.contains("before any partition or row was read") && m.contains(modelFile.toString()), m);
    }

    @Test void aStringWhereANumberBelongsNamesColumnPartitionRowAndModel() {
        String m = failure(() -> KilnSpark.predict(small("abc", 13), modelFile, COLS, "p", 8, KilnSpark.Ship.BROADCAST).collectAsList());
        assertTrue(m.contains("column 'f3' holds the non-numeric value 'abc' (String) in partition 0, row offset 13 (model file " + modelFile + ")"), m);
    }

    @Test void aRowOfTheWrongWidthNamesIt() {
        StructType schema = new StructType().add("v", DataTypes.createArrayType(DataTypes.DoubleType));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Double[] v = new Double[i == 4 ? FEATURES - 2 : FEATURES];
            java.util.Arrays.fill(v, 0.5);
            rows.add(RowFactory.create(scala.jdk.javaapi.CollectionConverters.asScala(List.of((Object[]) v)).toSeq()));
        }
        String m = failure(() -> KilnSpark.predict(spark.createDataFrame(rows, schema).coalesce(1), modelFile, List.of("v"), "p").collectAsList());
        assertTrue(m.contains("column 'v' holds 9 values but the model takes 11 per row in partition 0, row offset 4 (model file " + modelFile + ")"), m);
    }

    @Test void aModelFileThatDoesNotExistIsNamed() {
        Path missing = dir.resolve("nope.kiln");
        String m = failure(() -> KilnSpark.predict(small(null, -1), missing, COLS, "p").collectAsList());
        assertTrue(m.contains("model file " + missing + " does not exist"), m);
        // shipped by path, the executors find it missing: the partition and offset are named
        String p = failure(() -> KilnSpark.predict(small(null, -1), missing, COLS, "p", 16, KilnSpark.Ship.PATH).collectAsList());
        assertTrue(p.contains("model file " + missing + " failed to load in partition 0 (row offset 0)"), p);
    }

    @Test void aCorruptModelFileIsNamed() throws Exception {
        Path corrupt = dir.resolve("corrupt.kiln");
        byte[] b = Files.readAllBytes(modelFile);
        Files.write(corrupt, java.util.Arrays.copyOf(b, b.length / 2));
        String m = failure(() -> KilnSpark.predict(small(null, -1), corrupt, COLS, "p").collectAsList());
        assertTrue(m.contains("model file " + corrupt + " failed to load on the driver"), m);
        // good when the job was planned, corrupt when the executors read it (shared storage changed under the job)
        Path changing = dir.resolve("changing.kiln");
        Files.copy(modelFile, changing);
        Dataset<Row> planned = KilnSpark.predict(small(null, -1), changing, COLS, "p", 16, KilnSpark.Ship.PATH);
        Files.write(changing, java.util.Arrays.copyOf(b, b.length / 2));
        String p = failure(planned::collectAsList);
        assertTrue(p.contains("model file " + changing.toAbsolutePath() + " failed to load in partition 0 (row offset 0)") || p.contains("model file " + changing + " failed to load in partition 0 (row offset 0)"), p);
    }

    @Test void oneModelPerExecutorJvmAcrossTasks() {
        int before = ExecutorModels.loadedCount();
        Dataset<Row> df = small(null, -1).repartition(4);
        KilnSpark.predict(df, modelFile, COLS, "p", 3, KilnSpark.Ship.BROADCAST).collectAsList();
        KilnSpark.predict(df, modelFile, COLS, "p", 3, KilnSpark.Ship.BROADCAST).collectAsList();
        // four partitions, two jobs, one JVM: one predictor (of this model and bucket size) was loaded, not eight
        assertTrue(ExecutorModels.loadedCount() - before <= 1, "predictors loaded: " + (ExecutorModels.loadedCount() - before));
    }
}
