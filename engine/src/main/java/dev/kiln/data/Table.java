package dev.kiln.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * A CSV file as read: a header, typed columns and the raw cells, with the file line of every row
 * so later errors can point at it. Made by {@link Csv#read}; turned into a {@link Dataset} by a
 * {@link CsvSpec}.
 */
public final class Table {
    private final Path source;
    private final List<String> names;
    private final ColumnType[] types;
    private final String[][] cells;   // [row][column], trimmed
    private final int[] lines;        // 1-based file line where each row starts

    Table(Path source, List<String> names, ColumnType[] types, String[][] cells, int[] lines) {
        this.source = source;
        this.names = List.copyOf(names);
        this.types = types;
        this.cells = cells;
        this.lines = lines;
    }

    /** A train/validation pair of tables. */
    public record Split(Table train, Table validation) {}

    public Path source() { return source; }

    public List<String> columnNames() { return names; }

    public int rows() { return cells.length; }

    public int columns() { return names.size(); }

    public ColumnType type(String column) { return types[columnIndex(column)]; }

    public ColumnType type(int column) { return types[column]; }

    /** The 0-based index of {@code column}, or an error listing the columns there are. */
    public int columnIndex(String column) {
        int i = names.indexOf(column);
        if (i < 0) throw new IllegalArgumentException(source + " has no column '" + column + "'; its columns are " + names);
        return i;
    }

    /** The 1-based line of the file where {@code row} starts (the header is line 1). */
    public int line(int row) { return lines[row]; }

    public String cell(int row, int column) { return cells[row][column]; }

    public String cell(int row, String column) { return cells[row][columnIndex(column)]; }

    public boolean isMissing(int row, int column) { return isMissingToken(cells[row][column]); }

    /** The cell as a float; an error naming file, line and column when it is not a finite number. */
    public float number(int row, int column) {
        String s = cells[row][column];
        if (!isNumber(s))
            throw new IllegalArgumentException(where(row, column) + ": '" + abbreviate(s) + "' is not a number, but the column is numeric;"
                    + " fix the value or declare the column CATEGORICAL or TEXT");
        double v = Double.parseDouble(s);
        if (Math.abs(v) > Float.MAX_VALUE)
            throw new IllegalArgumentException(where(row, column) + ": " + abbreviate(s) + " is beyond the float range (±3.4e38)");
        return (float) v;
    }

    /** The sorted distinct non-missing values of a column. */
    public List<String> categories(String column) { return categories(columnIndex(column)); }

    List<String> categories(int column) {
        TreeSet<String> set = new TreeSet<>();
        for (String[] r : cells) if (!isMissingToken(r[column])) set.add(r[column]);
        return List.copyOf(set);
    }

    /** The rows at {@code indices}, in that order. */
    public Table rows(int[] indices) {
        String[][] c = new String[indices.length][];
        int[] l = new int[indices.length];
        for (int i = 0; i < indices.length; i++) { c[i] = cells[indices[i]]; l[i] = lines[indices[i]]; }
        return new Table(source, names, types, c, l);
    }

    /** A seeded shuffle, then the last round(rows * fraction) rows go to validation. */
    public Split split(double validationFraction, long seed) {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new IllegalArgumentException("validation fraction " + validationFraction + " must be in (0, 1)");
        int n = rows(), nVal = (int) Math.round(n * validationFraction);
        if (nVal < 1 || nVal >= n)
            throw new IllegalArgumentException("a validation fraction of " + validationFraction + " of " + n + " rows leaves an empty part");
        int[] perm = new int[n];
        new SplitMix(SplitMix.key(seed, 0x7AB1E, 0)).permutation(perm);
        return new Split(rows(Arrays.copyOfRange(perm, 0, n - nVal)), rows(Arrays.copyOfRange(perm, n - nVal, n)));
    }

    /** "file line 12, column 4 ('Horsepower')". */
    String where(int row, int column) {
        return source + " line " + lines[row] + ", column " + (column + 1) + " ('" + names.get(column) + "')";
    }

    @Override public String toString() {
        List<String> cols = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) cols.add(names.get(i) + ":" + types[i].name().toLowerCase(Locale.ROOT));
        return "Table[" + source + ", " + rows() + " rows, " + cols + "]";
    }

    static boolean isMissingToken(String s) {
        if (s.isEmpty() || s.equals("?")) return true;
        return s.equalsIgnoreCase("NA") || s.equalsIgnoreCase("N/A") || s.equalsIgnoreCase("NaN") || s.equalsIgnoreCase("null");
    }

    /** Plain decimal: [+-] digits [. digits] [e [+-] digits], at least one digit; no hex, no "Infinity", no 'f'/'d' suffix. */
    static boolean isNumber(String s) {
        int i = 0, n = s.length();
        if (n == 0 || n > 400) return false;
        if (s.charAt(i) == '+' || s.charAt(i) == '-') i++;
        int digits = 0;
        while (i < n && isDigit(s.charAt(i))) { i++; digits++; }
        if (i < n && s.charAt(i) == '.') {
            i++;
            while (i < n && isDigit(s.charAt(i))) { i++; digits++; }
        }
        if (digits == 0) return false;
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) i++;
            int exp = 0;
            while (i < n && isDigit(s.charAt(i))) { i++; exp++; }
            if (exp == 0) return false;
        }
        return i == n;
    }

    private static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

    static String abbreviate(String s) { return s.length() <= 40 ? s : s.substring(0, 37) + "..."; }
}
