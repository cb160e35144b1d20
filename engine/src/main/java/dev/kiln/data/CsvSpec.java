package dev.kiln.data;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How a {@link Table} becomes a {@link Dataset}: which column is the target, which columns to
 * drop, what to do with missing values, whether to standardise numeric features. Categorical
 * columns are always one-hot encoded, in sorted category order.
 *
 * <pre>{@code
 * Table t = Csv.read(Path.of("auto_mpg.csv"));
 * CsvSpec spec = CsvSpec.of().withDrop("Name").withMissing(MissingPolicy.DROP_ROWS);
 * CsvData d = spec.load(t, 0.2, 42);          // split, fit on train only, encode both
 * Dataset test = d.encoding().apply(Csv.read(testPath));
 * }</pre>
 *
 * @param target      the label column; null means the last column
 * @param drop        columns left out of the features (text columns must be dropped)
 * @param missing     the missing-value policy
 * @param standardize standardise numeric features with statistics of the data the encoding is fitted on
 */
public record CsvSpec(String target, List<String> drop, MissingPolicy missing, boolean standardize) {
    public CsvSpec {
        drop = List.copyOf(drop);
        if (missing == null) throw new IllegalArgumentException("missing-value policy must not be null");
    }

    /** Last column as target, nothing dropped, missing values fail, numeric features standardised. */
    public static CsvSpec of() { return new CsvSpec(null, List.of(), MissingPolicy.FAIL, true); }

    public CsvSpec withTarget(String target) { return new CsvSpec(target, drop, missing, standardize); }

    public CsvSpec withDrop(String... columns) {
        List<String> d = new ArrayList<>(drop);
        d.addAll(List.of(columns));
        return new CsvSpec(target, d, missing, standardize);
    }

    public CsvSpec withMissing(MissingPolicy missing) { return new CsvSpec(target, drop, missing, standardize); }

    public CsvSpec withStandardize(boolean standardize) { return new CsvSpec(target, drop, missing, standardize); }

    /** Train and validation data encoded alike, and the encoding to apply to further (test) data. */
    public record CsvData(Dataset train, Dataset validation, CsvEncoding encoding) {}

    /** Splits {@code t} (seeded), fits the encoding on the train part only, and encodes both parts. */
    public CsvData load(Table t, double validationFraction, long seed) {
        Table.Split s = t.split(validationFraction, seed);
        CsvEncoding enc = fit(s.train());
        return new CsvData(enc.apply(s.train()), enc.apply(s.validation()), enc);
    }

    /**
     * Learns the encoding from {@code train}: the feature columns, each categorical column's
     * sorted categories, the imputation values and the standardisation statistics.
     */
    public CsvEncoding fit(Table train) {
        int targetCol = target == null ? train.columns() - 1 : train.columnIndex(target);
        String targetName = train.columnNames().get(targetCol);
        for (String d : drop) {
            int c = train.columnIndex(d);
            if (c == targetCol) throw new IllegalArgumentException("'" + d + "' is the target column; it cannot also be dropped");
        }
        ColumnType targetType = train.type(targetCol);
        if (targetType == ColumnType.TEXT)
            throw new IllegalArgumentException("target column '" + targetName + "' of " + train.source() + " is text (more than "
                    + Csv.MAX_CATEGORIES + " distinct non-numeric values); pick another target or declare it CATEGORICAL in Csv.read");
        List<String> inputs = new ArrayList<>();
        List<ColumnType> types = new ArrayList<>();
        for (int c = 0; c < train.columns(); c++) {
            String name = train.columnNames().get(c);
            if (c == targetCol || drop.contains(name)) continue;
            if (train.type(c) == ColumnType.TEXT)
                throw new IllegalArgumentException("column '" + name + "' of " + train.source() + " is text, which has no numeric meaning;"
                        + " drop it with spec.withDrop(\"" + name + "\") or declare it CATEGORICAL in Csv.read");
            inputs.add(name);
            types.add(train.type(c));
        }
        if (inputs.isEmpty()) throw new IllegalArgumentException(train.source() + ": no feature columns are left after dropping " + drop + " and the target");
        Map<String, List<String>> categories = new HashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            if (types.get(i) == ColumnType.CATEGORICAL) categories.put(inputs.get(i), train.categories(inputs.get(i)));
        }
        List<String> targetClasses = targetType == ColumnType.CATEGORICAL ? train.categories(targetName) : List.of();
        float[] fill = missing == MissingPolicy.IMPUTE_MEAN ? imputeValues(train, inputs, types, categories) : new float[inputs.size()];
        CsvEncoding raw = new CsvEncoding(train.source().toString(), targetName, targetType, inputs, types, categories, fill, targetClasses,
                missing, null);
        if (!standardize) return raw;
        // Statistics of the encoded training rows (after dropping or imputing), numeric columns only.
        Dataset d = raw.apply(train);
        boolean[] numeric = new boolean[raw.width()];
        int k = 0;
        for (int i = 0; i < inputs.size(); i++) {
            if (types.get(i) == ColumnType.NUMERIC) numeric[k++] = true;
            else k += categories.get(inputs.get(i)).size();
        }
        return raw.withStandardizer(Standardizer.fit(d.features(), raw.width(), numeric));
    }

    private static float[] imputeValues(Table t, List<String> inputs, List<ColumnType> types, Map<String, List<String>> categories) {
        float[] fill = new float[inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            int c = t.columnIndex(inputs.get(i));
            if (types.get(i) == ColumnType.NUMERIC) {
                double sum = 0;
                int n = 0;
                for (int r = 0; r < t.rows(); r++) if (!t.isMissing(r, c)) { sum += t.number(r, c); n++; }
                if (n == 0) throw new IllegalArgumentException("column '" + inputs.get(i) + "' of " + t.source() + " has no values to impute a mean from; drop it");
                fill[i] = (float) (sum / n);
            } else {
                // Most frequent category; ties go to the first in sorted order, so the choice is stable.
                List<String> cats = categories.get(inputs.get(i));
                if (cats.isEmpty()) throw new IllegalArgumentException("column '" + inputs.get(i) + "' of " + t.source() + " has no values to impute from; drop it");
                int[] counts = new int[cats.size()];
                for (int r = 0; r < t.rows(); r++) if (!t.isMissing(r, c)) counts[cats.indexOf(t.cell(r, c))]++;
                int best = 0;
                for (int j = 1; j < counts.length; j++) if (counts[j] > counts[best]) best = j;
                fill[i] = best;
            }
        }
        return fill;
    }
}
