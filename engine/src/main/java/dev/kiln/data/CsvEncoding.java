package dev.kiln.data;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A fitted CSV encoding: the feature columns in order, each categorical column's sorted
 * categories (one-hot positions), imputation values, and the {@link Standardizer} (null when not
 * standardising). Fitted on training data by {@link CsvSpec#fit}; {@link #apply} encodes any
 * table with the same columns identically, so test data uses the training encoding.
 *
 * @param fittedOn       the file the encoding was fitted on, for messages
 * @param inputs         feature columns, in feature order
 * @param categories     sorted categories of each categorical input column
 * @param fill           per input: the imputed mean (numeric) or category index (categorical)
 * @param targetClasses  sorted classes of a categorical target (labels are their indices); empty for a numeric target
 */
public record CsvEncoding(String fittedOn, String target, ColumnType targetType, List<String> inputs, List<ColumnType> inputTypes,
                          Map<String, List<String>> categories, float[] fill, List<String> targetClasses, MissingPolicy missing,
                          Standardizer standardizer) {
    public CsvEncoding {
        inputs = List.copyOf(inputs);
        inputTypes = List.copyOf(inputTypes);
        categories = Map.copyOf(categories);
        fill = fill.clone();
        targetClasses = List.copyOf(targetClasses);
    }

    public CsvEncoding withStandardizer(Standardizer s) {
        return new CsvEncoding(fittedOn, target, targetType, inputs, inputTypes, categories, fill, targetClasses, missing, s);
    }

    @Override public float[] fill() { return fill.clone(); }

    /** Number of encoded features: one per numeric column, one per category of each categorical column. */
    public int width() {
        int w = 0;
        for (int i = 0; i < inputs.size(); i++) w += inputTypes.get(i) == ColumnType.NUMERIC ? 1 : categories.get(inputs.get(i)).size();
        return w;
    }

    /** Names of the encoded features, e.g. "Horsepower", "Origin=Europe". */
    public List<String> featureNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            if (inputTypes.get(i) == ColumnType.NUMERIC) names.add(inputs.get(i));
            else for (String c : categories.get(inputs.get(i))) names.add(inputs.get(i) + "=" + c);
        }
        return names;
    }

    /** Encodes {@code t}: features [n, width()], labels [n]; rows dropped or values imputed per the missing-value policy. */
    public Dataset apply(Table t) {
        int nIn = inputs.size(), w = width();
        int[] cols = new int[nIn];
        for (int i = 0; i < nIn; i++) cols[i] = t.columnIndex(inputs.get(i));
        int tc = t.columnIndex(target);
        float[] x = new float[t.rows() * w];
        float[] y = new float[t.rows()];
        int kept = 0;
        rows:
        for (int r = 0; r < t.rows(); r++) {
            if (t.isMissing(r, tc)) {
                if (missing == MissingPolicy.FAIL) throw missingError(t, r, tc);
                continue;
            }
            for (int i = 0; i < nIn; i++) {
                if (!t.isMissing(r, cols[i])) continue;
                switch (missing) {
                    case FAIL -> throw missingError(t, r, cols[i]);
                    case DROP_ROWS -> { continue rows; }
                    case IMPUTE_MEAN -> { }
                }
            }
            int o = kept * w;
            for (int i = 0; i < nIn; i++) {
                boolean gap = t.isMissing(r, cols[i]);
                switch (inputTypes.get(i)) {
                    case NUMERIC -> x[o++] = gap ? fill[i] : t.number(r, cols[i]);
                    case CATEGORICAL -> {
                        List<String> cats = categories.get(inputs.get(i));
                        int k = gap ? (int) fill[i] : categoryIndex(t, r, cols[i], cats);
                        x[o + k] = 1f;
                        o += cats.size();
                    }
                    case TEXT -> throw new IllegalStateException("text column '" + inputs.get(i) + "' cannot be encoded");
                }
            }
            y[kept] = switch (targetType) {
                case NUMERIC -> t.number(r, tc);
                case CATEGORICAL -> categoryIndex(t, r, tc, targetClasses);
                case TEXT -> throw new IllegalStateException("text target '" + target + "' cannot be encoded");
            };
            kept++;
        }
        if (kept == 0)
            throw new IllegalArgumentException(t.source() + ": no rows are left after dropping rows with missing values ("
                    + t.rows() + " had some); try MissingPolicy.IMPUTE_MEAN or drop the emptiest column");
        float[] xs = kept == t.rows() ? x : Arrays.copyOf(x, kept * w);
        float[] ys = kept == t.rows() ? y : Arrays.copyOf(y, kept);
        if (standardizer != null) standardizer.applyInPlace(xs);
        return Dataset.wrap(xs, Shape.of(kept, w), ys, Shape.of(kept));
    }

    private static int categoryIndex(Table t, int r, int c, List<String> cats) {
        String v = t.cell(r, c);
        int k = Collections.binarySearch(cats, v);
        if (k < 0)
            throw new IllegalArgumentException(t.where(r, c) + ": category '" + Table.abbreviate(v) + "' was not in the training data "
                    + (cats.size() <= 10 ? cats.toString() : "(" + cats.size() + " categories)") + "; add such rows to the training data or map the value");
        return k;
    }

    private IllegalArgumentException missingError(Table t, int r, int c) {
        return new IllegalArgumentException(t.where(r, c) + ": missing value; choose MissingPolicy.DROP_ROWS or IMPUTE_MEAN, or fill it in");
    }
}
