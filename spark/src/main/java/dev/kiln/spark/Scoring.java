package dev.kiln.spark;

import dev.kiln.serve.Predictor;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The executor side of {@link KilnSpark#predict}: reads a partition's rows in batches of {@code batchSize}, converts
 * the input columns to floats (each a number, or one array column of the model's input width), predicts the batch
 * with the executor's shared {@link Predictor}, and yields each row with its prediction appended. Lazy: one batch
 * of rows is held at a time.
 */
final class Scoring implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final String modelName;
    private final Broadcast<byte[]> modelBytes; // null: read modelPath on the executor
    private final long checksum;
    private final String modelPath;
    private final int[] columns;
    private final String[] columnNames;
    private final boolean arrayInput;
    private final int batchSize, maxBatch;

    Scoring(String modelName, Broadcast<byte[]> modelBytes, long checksum, String modelPath, int[] columns, String[] columnNames,
            boolean arrayInput, int batchSize, int maxBatch) {
        this.modelName = modelName;
        this.modelBytes = modelBytes;
        this.checksum = checksum;
        this.modelPath = modelPath;
        this.columns = columns;
        this.columnNames = columnNames;
        this.arrayInput = arrayInput;
        this.batchSize = batchSize;
        this.maxBatch = maxBatch;
    }

    @Override public Iterator<Row> call(Iterator<Row> rows) {
        int partition = TaskContext.getPartitionId();
        if (!rows.hasNext()) return rows;
        Predictor p;
        try {
            p = modelBytes != null ? ExecutorModels.fromBytes(modelName, checksum, modelBytes.value(), maxBatch)
                    : ExecutorModels.fromPath(Path.of(modelPath), maxBatch);
        } catch (RuntimeException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new KilnSparkException("model file " + modelName + " failed to load in partition " + partition + " (row offset 0): "
                    + oneLine(c) + "; check that the file exists on every executor and is a Kiln model file (Model.save)", e);
        }
        int width = p.inputSize(), outSize = p.outputSize();
        if (!arrayInput && columns.length != width) {
            throw new KilnSparkException("model file " + modelName + " takes " + width + " inputs per row but " + columns.length + " input columns were given "
                    + java.util.Arrays.toString(columnNames) + " (partition " + partition + ", row offset 0); give one column per model input");
        }
        return new Iterator<>() {
            final float[] x = new float[batchSize * width];
            final float[] y = new float[batchSize * outSize];
            final List<Row> batch = new ArrayList<>(batchSize);
            long offset; // rows of this partition read so far
            int next;

            @Override public boolean hasNext() {
                if (next < batch.size()) return true;
                if (!rows.hasNext()) return false;
                fill();
                return true;
            }

            @Override public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                Row r = batch.get(next);
                Object[] values = new Object[r.length() + 1];
                for (int i = 0; i < r.length(); i++) values[i] = r.get(i);
                if (outSize == 1) {
                    values[r.length()] = y[next];
                } else {
                    float[] o = new float[outSize];
                    System.arraycopy(y, next * outSize, o, 0, outSize);
                    values[r.length()] = o;
                }
                next++;
                return RowFactory.create(values);
            }

            private void fill() {
                batch.clear();
                next = 0;
                while (batch.size() < batchSize && rows.hasNext()) {
                    Row r = rows.next();
                    read(r, batch.size() * width, offset);
                    batch.add(r);
                    offset++;
                }
                try {
                    p.predict(x, batch.size(), y);
                } catch (IllegalArgumentException e) {
                    throw new KilnSparkException("model file " + modelName + ", partition " + partition + ", rows " + (offset - batch.size()) + ".." + (offset - 1)
                            + ": " + oneLine(e), e);
                }
            }

            private void read(Row r, int at, long rowOffset) {
                if (arrayInput) {
                    Object v = r.get(columns[0]);
                    if (v == null) throw bad(columnNames[0], rowOffset, "is null", "fill or drop missing rows before scoring");
                    List<Object> list = r.getList(columns[0]);
                    if (list.size() != width) {
                        throw bad(columnNames[0], rowOffset, "holds " + list.size() + " values but the model takes " + width + " per row", "give rows of the model's input width");
                    }
                    for (int j = 0; j < width; j++) x[at + j] = number(list.get(j), columnNames[0] + "[" + j + "]", rowOffset);
                } else {
                    for (int j = 0; j < width; j++) x[at + j] = number(r.get(columns[j]), columnNames[j], rowOffset);
                }
            }

            private float number(Object v, String column, long rowOffset) {
                if (v instanceof Number n) return n.floatValue();
                if (v instanceof String str) { // a column read as text (CSV without a schema): numbers in it are taken
                    try {
                        return Float.parseFloat(str.trim());
                    } catch (NumberFormatException e) {
                        throw bad(column, rowOffset, "holds the non-numeric value '" + str + "' (String)", "cast the column to a number or clean the data");
                    }
                }
                if (v == null) throw bad(column, rowOffset, "is null", "fill or drop missing values before scoring");
                throw bad(column, rowOffset, "holds the non-numeric value '" + v + "' (" + v.getClass().getSimpleName() + ")", "cast the column to a number or clean the data");
            }

            private KilnSparkException bad(String column, long rowOffset, String what, String fix) {
                return new KilnSparkException("column '" + column + "' " + what + " in partition " + partition + ", row offset " + rowOffset
                        + " (model file " + modelName + "); " + fix);
            }
        };
    }

    static String oneLine(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.replace('\n', ' ');
    }
}
