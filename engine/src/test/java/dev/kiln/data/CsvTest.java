package dev.kiln.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CsvTest {
    @TempDir Path tmp;

    static Path dataset(String name) throws IOException {
        return CourseData.csv(name);
    }

    Path write(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test void diabetesHas442RowsOfTenNumericFeatures() throws IOException {
        Table t = Csv.read(dataset("diabetes.csv"));
        assertEquals(442, t.rows());
        for (String c : t.columnNames()) assertEquals(ColumnType.NUMERIC, t.type(c));
        Dataset d = CsvSpec.of().withStandardize(false).fit(t).apply(t);
        assertEquals(442, d.size());
        assertEquals(10, d.featuresPerExample());
        // First data row: 59,2,32.1,101,157,93.2,38,4,4.8598,87,151
        assertEquals(59f, d.feature(0, 0));
        assertEquals(4.8598f, d.feature(0, 8), 1e-6f);
        assertEquals(151f, d.label(0));
    }

    @Test void autoMpgColumnTypesAreInferred() throws IOException {
        Table t = Csv.read(dataset("auto_mpg.csv"));
        assertEquals(406, t.rows());
        assertEquals(ColumnType.TEXT, t.type("Name"));
        assertEquals(ColumnType.CATEGORICAL, t.type("Origin"));
        assertEquals(ColumnType.NUMERIC, t.type("Horsepower"));
        assertEquals(List.of("Europe", "Japan", "USA"), t.categories("Origin"));
    }

    @Test void autoMpgDropRowsKeeps392AndOneHotsOriginIntoThreeColumns() throws IOException {
        Table t = Csv.read(dataset("auto_mpg.csv"));
        CsvEncoding enc = CsvSpec.of().withDrop("Name").withMissing(MissingPolicy.DROP_ROWS).withStandardize(false).fit(t);
        Dataset d = enc.apply(t);
        assertEquals(392, d.size());
        assertEquals(List.of("Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration", "Year",
                "Origin=Europe", "Origin=Japan", "Origin=USA"), enc.featureNames());
        assertEquals(9, d.featuresPerExample());
        // Row 0 is "chevrolet chevelle malibu,...,USA,18": one-hot [0, 0, 1].
        assertArrayEquals(new float[] {0, 0, 1}, new float[] {d.feature(0, 6), d.feature(0, 7), d.feature(0, 8)});
        for (int r = 0; r < d.size(); r++) assertEquals(1f, d.feature(r, 6) + d.feature(r, 7) + d.feature(r, 8));
    }

    @Test void autoMpgFailPolicyNamesFileLineAndColumn() throws IOException {
        Table t = Csv.read(dataset("auto_mpg.csv"));
        var e = assertThrows(IllegalArgumentException.class, () -> CsvSpec.of().withDrop("Name").fit(t));
        // The first missing value in file order: find it independently in the raw text.
        List<String> lines = Files.readAllLines(dataset("auto_mpg.csv"));
        int expectedLine = -1;
        String expectedColumn = null;
        List<String> header = List.of(lines.get(0).split(","));
        for (int i = 1; i < lines.size() && expectedLine < 0; i++) {
            String[] f = lines.get(i).split(",", -1);
            // Miles_per_Gallon (target) and Horsepower are the columns with gaps.
            if (f[8].isEmpty() || f[3].isEmpty()) { expectedLine = i + 1; expectedColumn = f[8].isEmpty() ? "Miles_per_Gallon" : "Horsepower"; }
        }
        String m = e.getMessage();
        assertTrue(m.contains("auto_mpg.csv line " + expectedLine + ", column " + (header.indexOf(expectedColumn) + 1) + " ('" + expectedColumn + "')"), m);
        assertTrue(m.contains("DROP_ROWS"), m);
    }

    @Test void autoMpgImputeFillsTheMeanAndDropsOnlyRowsWithoutTarget() throws IOException {
        Table t = Csv.read(dataset("auto_mpg.csv"));
        CsvEncoding enc = CsvSpec.of().withDrop("Name").withMissing(MissingPolicy.IMPUTE_MEAN).withStandardize(false).fit(t);
        Dataset d = enc.apply(t);
        assertEquals(406 - 8, d.size());
        // Mean of the present horsepower values, computed here independently.
        int hp = t.columnIndex("Horsepower");
        double sum = 0;
        int n = 0;
        for (int r = 0; r < t.rows(); r++) if (!t.cell(r, hp).isEmpty()) { sum += Double.parseDouble(t.cell(r, hp)); n++; }
        assertEquals(400, n);
        float mean = (float) (sum / n);
        // "ford pinto,4,98,,2046,19,1971,USA,25" is the first row with no horsepower and a target.
        int found = 0;
        for (int r = 0; r < d.size(); r++) {
            if (d.feature(r, 1) == 98f && d.feature(r, 3) == 2046f) { assertEquals(mean, d.feature(r, 2), 1e-4f); found++; }
        }
        assertEquals(1, found);
    }

    @Test void standardisationUsesTrainStatisticsOnly() throws IOException {
        Table t = Csv.read(dataset("auto_mpg.csv"));
        CsvSpec.CsvData data = CsvSpec.of().withDrop("Name").withMissing(MissingPolicy.DROP_ROWS).load(t, 0.25, 9);
        Dataset train = data.train(), val = data.validation();
        assertEquals(392, train.size() + val.size());
        for (int c = 0; c < 6; c++) {
            double m = 0, v = 0;
            for (int r = 0; r < train.size(); r++) m += train.feature(r, c);
            m /= train.size();
            for (int r = 0; r < train.size(); r++) v += Math.pow(train.feature(r, c) - m, 2);
            assertEquals(0, m, 1e-5, "train mean of column " + c);
            assertEquals(1, Math.sqrt(v / train.size()), 1e-4, "train std of column " + c);
        }
        // One-hot columns are left as 0/1.
        for (int r = 0; r < val.size(); r++) assertEquals(1f, val.feature(r, 6) + val.feature(r, 7) + val.feature(r, 8));
        // Validation is encoded with the train statistics, so its mean is near but not exactly 0.
        double vm = 0;
        for (int r = 0; r < val.size(); r++) vm += val.feature(r, 3);
        vm /= val.size();
        assertNotEquals(0, vm, 1e-6);
        assertTrue(Math.abs(vm) < 0.5, "validation weight mean " + vm);
        Standardizer s = data.encoding().standardizer();
        assertEquals(0f, s.mean()[6]);
        assertEquals(1f, s.std()[6]);
    }

    @Test void textColumnMustBeDroppedWithAHint() throws IOException {
        Table t = Csv.read(dataset("auto_mpg.csv"));
        var e = assertThrows(IllegalArgumentException.class, () -> CsvSpec.of().withMissing(MissingPolicy.DROP_ROWS).fit(t));
        assertTrue(e.getMessage().contains("withDrop(\"Name\")"), e.getMessage());
    }

    @Test void testDataUsesTheTrainingCategoryOrder() throws IOException {
        Table train = Csv.read(write("train.csv", "colour,size,y\nred,1,0\nblue,2,1\ngreen,3,0\n"));
        Table test = Csv.read(write("test.csv", "colour,size,y\ngreen,5,1\n"));
        CsvEncoding enc = CsvSpec.of().withStandardize(false).fit(train);
        Dataset d = enc.apply(test);
        // Sorted: blue, green, red -> green is position 1.
        assertArrayEquals(new float[] {0, 1, 0, 5}, d.features());
        Table unseen = Csv.read(write("unseen.csv", "colour,size,y\npurple,5,1\n"));
        var e = assertThrows(IllegalArgumentException.class, () -> enc.apply(unseen));
        assertTrue(e.getMessage().contains("line 2, column 1 ('colour')") && e.getMessage().contains("purple"), e.getMessage());
    }

    @Test void categoricalTargetBecomesClassIndices() throws IOException {
        Table t = Csv.read(write("c.csv", "x,kind\n1,cat\n2,dog\n3,cat\n"));
        CsvEncoding enc = CsvSpec.of().withStandardize(false).fit(t);
        assertEquals(List.of("cat", "dog"), enc.targetClasses());
        assertArrayEquals(new float[] {0, 1, 0}, enc.apply(t).labels());
    }

    @Test void quotedFieldsWithCommasQuotesAndNewlinesParse() throws IOException {
        Table t = Csv.read(write("q.csv", "name,v\r\n\"a, b\",1\r\n\"say \"\"hi\"\"\",2\n\"two\nlines\",3\n\nlast,4"));
        assertEquals(4, t.rows());
        assertEquals("a, b", t.cell(0, 0));
        assertEquals("say \"hi\"", t.cell(1, 0));
        assertEquals("two\nlines", t.cell(2, 0));
        assertEquals(4, t.line(2));
        assertEquals(7, t.line(3));
    }

    @Test void badFilesGiveClearErrors() throws IOException {
        var empty = assertThrows(IllegalArgumentException.class, () -> Csv.read(write("e.csv", "")));
        assertTrue(empty.getMessage().contains("is empty"), empty.getMessage());
        var headerOnly = assertThrows(IllegalArgumentException.class, () -> Csv.read(write("h.csv", "a,b\n")));
        assertTrue(headerOnly.getMessage().contains("no data rows"), headerOnly.getMessage());
        var ragged = assertThrows(IllegalArgumentException.class, () -> Csv.read(write("r.csv", "a,b\n1,2\n3\n")));
        assertTrue(ragged.getMessage().contains("line 3 has 1 fields but the header has 2"), ragged.getMessage());
        var declared = assertThrows(IllegalArgumentException.class,
                () -> Csv.read(write("d.csv", "a,b\n1,2\nx7,3\n"), Map.of("a", ColumnType.NUMERIC)));
        assertTrue(declared.getMessage().contains("line 3, column 1 ('a')") && declared.getMessage().contains("'x7' is not a number"), declared.getMessage());
        StringBuilder mostlyNumbers = new StringBuilder("a\n");
        for (int i = 0; i < 30; i++) mostlyNumbers.append(i == 17 ? "1O" : String.valueOf(i)).append('\n');
        var stray = assertThrows(IllegalArgumentException.class, () -> Csv.read(write("s.csv", mostlyNumbers.toString())));
        assertTrue(stray.getMessage().contains("line 19") && stray.getMessage().contains("'1O'"), stray.getMessage());
        var inf = assertThrows(IllegalArgumentException.class, () -> Csv.read(write("i.csv", "a\n1\n1e39\n"), Map.of("a", ColumnType.NUMERIC)));
        assertTrue(inf.getMessage().contains("line 3") && inf.getMessage().contains("float range"), inf.getMessage());
        var quote = assertThrows(IllegalArgumentException.class, () -> Csv.read(write("u.csv", "a\n\"open\n")));
        assertTrue(quote.getMessage().contains("line 2") && quote.getMessage().contains("never closed"), quote.getMessage());
        var dup = assertThrows(IllegalArgumentException.class, () -> Csv.read(write("dup.csv", "a,a\n1,2\n")));
        assertTrue(dup.getMessage().contains("appears twice"), dup.getMessage());
        Path bin = tmp.resolve("bin.csv");
        Files.write(bin, new byte[] {'a', '\n', (byte) 0xC3, (byte) 0x28, '\n'});
        var utf = assertThrows(IOException.class, () -> Csv.read(bin));
        assertTrue(utf.getMessage().contains("not UTF-8"), utf.getMessage());
    }

    @Test void allMissingAfterDropIsAClearError() throws IOException {
        Table t = Csv.read(write("m.csv", "a,b,y\n1,,3\n,2,4\n"));
        var e = assertThrows(IllegalArgumentException.class, () -> CsvSpec.of().withMissing(MissingPolicy.DROP_ROWS).fit(t));
        assertTrue(e.getMessage().contains("no rows are left"), e.getMessage());
    }

    @Test void tooManyColumnsOrTooLongARecordFailAtTheCapNamingFileAndLine() throws IOException {
        StringBuilder wide = new StringBuilder();
        for (int c = 0; c <= Csv.MAX_COLUMNS; c++) wide.append(c == 0 ? "" : ",").append('c').append(c);
        String ones = ",1".repeat(Csv.MAX_COLUMNS).substring(1);
        Path tooWide = write("w.csv", wide + "\n" + ones + ",1\n");
        var columns = assertThrows(IllegalArgumentException.class, () -> Csv.read(tooWide));
        assertTrue(columns.getMessage().startsWith(tooWide.toString()) && columns.getMessage().contains("line 1: more than 65536 fields"), columns.getMessage());
        // at the cap it loads
        String atCap = wide.substring(0, wide.lastIndexOf(","));
        assertEquals(Csv.MAX_COLUMNS, Csv.read(write("cap.csv", atCap + "\n" + ones + "\n")).columns());

        String longCell = "x".repeat(Csv.MAX_RECORD_CHARS + 1);
        for (String text : new String[] {"a,b\n1,2\n3," + longCell + "\n", "a,b\n1,2\n3,\"" + longCell + "\"\n"}) {
            Path p = write("long.csv", text);
            var record = assertThrows(IllegalArgumentException.class, () -> Csv.read(p));
            assertTrue(record.getMessage().startsWith(p.toString()) && record.getMessage().contains("line 3: a record longer than " + Csv.MAX_RECORD_CHARS), record.getMessage());
        }
    }
}
