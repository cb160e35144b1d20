package dev.kiln.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a CSV file (RFC 4180: comma-separated, optional double quotes, {@code ""} for a quote
 * inside quotes, LF or CRLF) with a header row into a typed {@link Table}.
 *
 * <pre>{@code
 * Table t = Csv.read(Path.of("auto_mpg.csv"));                       // types inferred
 * Table u = Csv.read(path, Map.of("Year", ColumnType.CATEGORICAL));  // some declared
 * }</pre>
 *
 * Inference: a column whose non-missing cells are all plain decimal numbers is NUMERIC; otherwise
 * it is CATEGORICAL when it has at most {@value #MAX_CATEGORIES} distinct values, else TEXT. A
 * column that is mostly numbers with a few stray words is an error naming the first stray cell,
 * not a silent category. Missing cells are empty, NA, N/A, NaN, null or ?.
 */
public final class Csv {
    /** Most distinct values an inferred categorical column may have. */
    public static final int MAX_CATEGORIES = 32;
    /** Largest file read, to fail clearly rather than exhaust memory. */
    static final long MAX_BYTES = 1L << 30;
    /**
     * Most columns: tabular data sets run to hundreds of columns, wide gene-expression tables to tens of thousands;
     * each column costs a String per cell and a type inference pass, so a wider header is refused as it is read.
     */
    static final int MAX_COLUMNS = 1 << 16;
    /** Longest record, in characters (quoted line breaks included): a row of MAX_COLUMNS numbers of ~60 characters each. */
    static final int MAX_RECORD_CHARS = 1 << 22;

    private Csv() {}

    public static Table read(Path file) throws IOException { return read(file, Map.of()); }

    /** Reads with some column types declared by name; the others are inferred. */
    public static Table read(Path file, Map<String, ColumnType> declared) throws IOException {
        long size = Files.size(file);
        if (size > MAX_BYTES) throw new IOException(file + " is " + size + " bytes; CSV files over " + MAX_BYTES + " bytes are not read into memory");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + " is not UTF-8 text (" + e + "); save it as UTF-8", e);
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        return parse(file, text, declared);
    }

    static Table parse(Path file, String text, Map<String, ColumnType> declared) {
        List<String[]> records = new ArrayList<>();
        List<Integer> lines = new ArrayList<>();
        records(file, text, records, lines);
        if (records.isEmpty()) throw new IllegalArgumentException(file + " is empty; a CSV file needs a header row and at least one data row");
        String[] header = records.getFirst();
        Set<String> seen = new HashSet<>();
        for (int c = 0; c < header.length; c++) {
            if (!seen.add(header[c]))
                throw new IllegalArgumentException(file + " line " + lines.getFirst() + ": column name '" + Table.abbreviate(header[c])
                        + "' appears twice in the header; give each column a distinct name");
        }
        for (String name : declared.keySet()) {
            if (!seen.contains(name)) throw new IllegalArgumentException(file + " has no column '" + name + "' to declare; its columns are " + List.of(header));
        }
        int rows = records.size() - 1;
        if (rows == 0) throw new IllegalArgumentException(file + " has a header but no data rows");
        String[][] cells = new String[rows][];
        int[] rowLines = new int[rows];
        for (int r = 0; r < rows; r++) {
            String[] rec = records.get(r + 1);
            if (rec.length != header.length)
                throw new IllegalArgumentException(file + " line " + lines.get(r + 1) + " has " + rec.length + " fields but the header has "
                        + header.length + "; check for a missing or extra comma, or an unquoted comma inside a value");
            cells[r] = rec;
            rowLines[r] = lines.get(r + 1);
        }
        ColumnType[] types = new ColumnType[header.length];
        List<String> names = List.of(header);
        Table untyped = new Table(file, names, types, cells, rowLines);
        for (int c = 0; c < header.length; c++) {
            ColumnType t = declared.get(header[c]);
            types[c] = t != null ? t : infer(untyped, c);
            if (types[c] == ColumnType.NUMERIC) {
                // Declared or inferred numeric: every non-missing cell must parse; number() names the first that does not.
                for (int r = 0; r < rows; r++) if (!untyped.isMissing(r, c)) untyped.number(r, c);
            }
        }
        return untyped;
    }

    private static ColumnType infer(Table t, int c) {
        int numbers = 0, words = 0, firstWord = -1;
        Set<String> distinct = new HashSet<>();
        for (int r = 0; r < t.rows(); r++) {
            if (t.isMissing(r, c)) continue;
            String s = t.cell(r, c);
            if (Table.isNumber(s)) numbers++;
            else { words++; if (firstWord < 0) firstWord = r; }
            if (distinct.size() <= MAX_CATEGORIES) distinct.add(s);
        }
        if (words == 0) return ColumnType.NUMERIC;
        if (numbers >= 9 * words && numbers >= 10)
            throw new IllegalArgumentException(t.where(firstWord, c) + ": '" + Table.abbreviate(t.cell(firstWord, c)) + "' is not a number, but "
                    + numbers + " of the column's " + (numbers + words) + " values are; fix the value, or declare the column's type in Csv.read");
        return distinct.size() <= MAX_CATEGORIES ? ColumnType.CATEGORICAL : ColumnType.TEXT;
    }

    private static IllegalArgumentException recordTooLong(Path file, int line) {
        return new IllegalArgumentException(file + " line " + line + ": a record longer than " + MAX_RECORD_CHARS + " characters, the most Kiln reads;"
                + " the file is corrupt, not a table, or has a quote that is never closed");
    }

    /** Splits text into records of trimmed fields, recording the 1-based line each starts on; blank lines are skipped. */
    private static void records(Path file, String text, List<String[]> out, List<Integer> lines) {
        int n = text.length(), i = 0, line = 1;
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        while (i < n) {
            int recordLine = line, recordStart = i;
            fields.clear();
            boolean endOfRecord = false;
            while (!endOfRecord) {
                if (fields.size() == MAX_COLUMNS)
                    throw new IllegalArgumentException(file + " line " + recordLine + ": more than " + MAX_COLUMNS + " fields, the most Kiln reads; the file is corrupt or not a table");
                field.setLength(0);
                // Leading spaces before a quote are allowed: ` "a, b"`.
                int j = i;
                while (j < n && text.charAt(j) == ' ') j++;
                if (j < n && text.charAt(j) == '"') {
                    int quoteLine = line;
                    i = j + 1;
                    while (true) {
                        if (i >= n) throw new IllegalArgumentException(file + " line " + quoteLine + ": a quoted value is never closed; add the closing '\"'");
                        if (i - recordStart > MAX_RECORD_CHARS) throw recordTooLong(file, recordLine);
                        char ch = text.charAt(i++);
                        if (ch == '"') {
                            if (i < n && text.charAt(i) == '"') { field.append('"'); i++; }
                            else break;
                        } else {
                            if (ch == '\n') line++;
                            field.append(ch);
                        }
                    }
                    while (i < n && text.charAt(i) == ' ') i++;
                    if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n' && text.charAt(i) != '\r')
                        throw new IllegalArgumentException(file + " line " + line + ": text after a closing quote; quote the whole value and double any '\"' inside it");
                } else {
                    while (i < n) {
                        char ch = text.charAt(i);
                        if (ch == ',' || ch == '\n' || ch == '\r') break;
                        if (i - recordStart > MAX_RECORD_CHARS) throw recordTooLong(file, recordLine);
                        field.append(ch);
                        i++;
                    }
                }
                fields.add(field.toString().strip());
                if (i >= n) { endOfRecord = true; }
                else if (text.charAt(i) == ',') { i++; }
                else {
                    if (text.charAt(i) == '\r') i++;
                    if (i < n && text.charAt(i) == '\n') i++;
                    line++;
                    endOfRecord = true;
                }
            }
            boolean blank = fields.size() == 1 && fields.getFirst().isEmpty();
            if (!blank) {
                out.add(fields.toArray(new String[0]));
                lines.add(recordLine);
            }
        }
    }
}
