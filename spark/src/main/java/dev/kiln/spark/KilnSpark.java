package dev.kiln.spark;

import dev.kiln.nn.Model;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Kiln inside Apache Spark: {@link #predict} scores a DataFrame with a saved model, one {@link dev.kiln.serve.Predictor}
 * per executor JVM, in batches; {@link #fit} trains a model data-parallel in one barrier stage (see {@link DataParallel}).
 *
 * <pre>{@code
 * Dataset<Row> scored = KilnSpark.predict(spark.read().parquet("s3://lake/rows"), Path.of("model.kiln"),
 *         List.of("f0", "f1", "f2"), "prediction");
 * }</pre>
 */
public final class KilnSpark {
    /** Rows per Predictor call unless given. */
    public static final int DEFAULT_BATCH = 4096;

    /** How the model file reaches the executors. */
    public enum Ship {
        /** The driver reads the file and broadcasts its bytes (the default: no shared storage needed). */
        BROADCAST,
        /** Each executor reads the same path (shared storage: NFS, a mounted bucket); nothing is broadcast. */
        PATH
    }

    private KilnSpark() {}

    /** {@code df} with a column {@code outputColumn} of predictions appended; see {@link #predict(Dataset, Path, List, String, int, Ship)}. */
    public static Dataset<Row> predict(Dataset<Row> df, Path modelFile, List<String> inputColumns, String outputColumn) {
        return predict(df, modelFile, inputColumns, outputColumn, DEFAULT_BATCH, Ship.BROADCAST);
    }

    /**
     * {@code df} with the model's predictions appended as {@code outputColumn} (float, or array of floats for a model of
     * several output values). {@code inputColumns}: one numeric column per model input value, in order, or a single
     * array column holding each row's inputs. Lazy, as any DataFrame: the scoring runs at the action. Rows go to the
     * executor's Predictor {@code batchSize} at a time. Errors (a column missing or of the wrong width, a non-numeric
     * or null value, a model that fails to load) fail the job with one line naming the column, the partition, the
     * row offset in it and the model file.
     */
    public static Dataset<Row> predict(Dataset<Row> df, Path modelFile, List<String> inputColumns, String outputColumn, int batchSize, Ship ship) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (inputColumns.isEmpty()) throw new IllegalArgumentException("no input columns given for model file " + modelFile);
        String name = modelFile.toString();
        StructType schema = df.schema();
        List<String> present = Arrays.asList(schema.fieldNames());
        int[] idx = new int[inputColumns.size()];
        for (int i = 0; i < idx.length; i++) {
            String c = inputColumns.get(i);
            if (!present.contains(c)) {
                throw new KilnSparkException("column '" + c + "' is missing from the DataFrame (columns: " + present + "; checked on the driver, before any partition or row was read; model file "
                        + name + "); select or rename the columns the model takes");
            }
            idx[i] = schema.fieldIndex(c);
        }
        if (present.contains(outputColumn)) throw new KilnSparkException("output column '" + outputColumn + "' already exists in the DataFrame (model file " + name + "); choose another name");
        boolean arrayInput = idx.length == 1 && schema.fields()[idx[0]].dataType() instanceof ArrayType;

        byte[] bytes;
        try {
            bytes = Files.readAllBytes(modelFile);
        } catch (NoSuchFileException e) {
            if (ship == Ship.PATH) bytes = null; // the executors may see storage the driver does not
            else throw new KilnSparkException("model file " + name + " does not exist (read on the driver to broadcast it, before any partition or row); check the path", e);
        } catch (IOException e) {
            throw new KilnSparkException("model file " + name + " could not be read on the driver: " + Scoring.oneLine(e), e);
        }
        int outSize = 1;
        if (bytes != null) {
            Model m;
            try {
                m = Model.load(modelFile);
            } catch (IOException | RuntimeException e) {
                throw new KilnSparkException("model file " + name + " failed to load on the driver (before any partition or row was read): " + Scoring.oneLine(e)
                        + "; give a Kiln model file written by Model.save", e);
            }
            if (m.inputs().size() != 1 || m.outputs().size() != 1) {
                throw new KilnSparkException("model file " + name + " has " + m.inputs().size() + " inputs and " + m.outputs().size() + " outputs; KilnSpark.predict scores models of one input and one output");
            }
            int width = m.inputShape(0).size();
            if (!arrayInput && idx.length != width) {
                throw new KilnSparkException("model file " + name + " takes " + width + " input values per row but " + idx.length + " input columns were given " + inputColumns
                        + " (checked on the driver); give one column per model input, or one array column");
            }
            outSize = m.outputShape(0).size();
        }
        Broadcast<byte[]> shipped = null;
        long checksum = 0;
        if (ship == Ship.BROADCAST) {
            CRC32 crc = new CRC32();
            crc.update(bytes);
            checksum = crc.getValue();
            shipped = JavaSparkContext.fromSparkContext(df.sparkSession().sparkContext()).broadcast(bytes);
        }
        DataType outType = outSize == 1 ? DataTypes.FloatType : DataTypes.createArrayType(DataTypes.FloatType, false);
        StructType outSchema = schema.add(new StructField(outputColumn, outType, false, org.apache.spark.sql.types.Metadata.empty()));
        int maxBatch = Math.min(Integer.highestOneBit(batchSize), 1024);
        Scoring f = new Scoring(name, shipped, checksum, modelFile.toAbsolutePath().toString(), idx, inputColumns.toArray(String[]::new), arrayInput, batchSize, maxBatch);
        return df.mapPartitions(f, Encoders.row(outSchema));
    }

    /**
     * Trains {@code model} data-parallel on {@code df} as {@code cfg} says, in one barrier stage of {@code cfg.tasks()}
     * tasks (the DataFrame's columns are selected, and it is coalesced, or repartitioned when it has fewer, to that
     * many partitions; give it exactly that many for a reproducible split). Every step each replica computes the
     * gradients of its own batch, a ring all-reduce over TCP averages them, and each applies the same update, so the
     * replicas stay identical and training matches one replica on the global batches. {@code model} itself is not
     * changed: the trained model comes back in the result. A failed task makes Spark retry the stage, which resumes
     * from the latest checkpoint when {@code cfg.checkpoints()} is set.
     */
    public static Trained fit(Model model, Dataset<Row> df, DataParallel cfg) {
        List<String> present = Arrays.asList(df.schema().fieldNames());
        List<String> cols = new java.util.ArrayList<>(cfg.features());
        cols.add(cfg.label());
        for (String c : cols) {
            if (!present.contains(c)) throw new KilnSparkException("column '" + c + "' is missing from the training DataFrame (columns: " + present + "; checked on the driver); select or rename it");
        }
        int in = model.build().inputShape(0).size();
        if (model.inputs().size() != 1 || model.outputs().size() != 1 || in != cfg.features().size()) {
            throw new KilnSparkException("model '" + model.name() + "' takes " + in + " input values per row (" + model.inputs().size() + " inputs, " + model.outputs().size()
                    + " outputs) and " + cfg.features().size() + " feature columns were given; KilnSpark.fit trains models of one input and one output, one column per input value");
        }
        byte[] bytes;
        try {
            Path tmp = Files.createTempFile("kiln-fit-", ".kiln");
            try {
                model.save(tmp);
                bytes = Files.readAllBytes(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Dataset<Row> selected = df.select(cols.stream().map(org.apache.spark.sql.functions::col).toArray(org.apache.spark.sql.Column[]::new));
        int parts = selected.rdd().getNumPartitions();
        Dataset<Row> split = parts == cfg.tasks() ? selected : parts > cfg.tasks() ? selected.coalesce(cfg.tasks()) : selected.repartition(cfg.tasks());
        org.apache.spark.rdd.RDD<byte[]> trained = split.rdd().barrier().mapPartitions(new Replica(bytes, cfg), false, scala.reflect.ClassTag$.MODULE$.apply(byte[].class));
        // Spark retries a failed barrier stage only when it is a shuffle-map stage (a failed barrier result stage
        // aborts the job), so the replicas' results cross one shuffle on their way to the driver
        List<byte[]> results = trained.toJavaRDD().repartition(1).collect();
        if (results.size() != 1) throw new IllegalStateException("KilnSpark.fit: expected rank 0's result alone, got " + results.size());
        return new Trained(Trained.Result.of(results.get(0)), cfg.compile());
    }
}
