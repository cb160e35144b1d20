package dev.kiln.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Seeded mutation fuzzing of the file readers: each mutated file must load (correctly, where the
 * format lets us tell) or fail with an IOException / IllegalArgumentException carrying a message;
 * never an OutOfMemoryError, a hang, or a leaked array-bounds / negative-size exception.
 * Each reader has a preemptive time bound. The hostile seeds (headers just past a cap, a gzip IDX claiming
 * more than the element cap, CSV files one column or one character past theirs) check that the caps hold under
 * mutation: every mutant fails at a cap or loads within it, in bounded time.
 */
class FuzzTest {
    @TempDir Path tmp;

    interface Reader { void read(Path file, byte[] bytes) throws Exception; }

    /** One of: flip 1–4 bytes, truncate, insert 1–8 random bytes, or delete a run. */
    static byte[] mutate(byte[] src, Random r) {
        switch (r.nextInt(4)) {
            case 0 -> {
                byte[] b = src.clone();
                int k = 1 + r.nextInt(4);
                for (int i = 0; i < k; i++) b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                return b;
            }
            case 1 -> { return Arrays.copyOf(src, r.nextInt(src.length)); }
            case 2 -> {
                int at = r.nextInt(src.length + 1), k = 1 + r.nextInt(8);
                byte[] b = new byte[src.length + k];
                System.arraycopy(src, 0, b, 0, at);
                for (int i = 0; i < k; i++) b[at + i] = (byte) r.nextInt(256);
                System.arraycopy(src, at, b, at + k, src.length - at);
                return b;
            }
            default -> {
                int at = r.nextInt(src.length), k = 1 + r.nextInt(Math.min(16, src.length - at));
                byte[] b = new byte[src.length - k];
                System.arraycopy(src, 0, b, 0, at);
                System.arraycopy(src, at + k, b, at, src.length - at - k);
                return b;
            }
        }
    }

    /** Returns how many attempts loaded; fails on any other kind of ending. */
    int fuzz(String name, byte[][] seeds, int attempts, long seed, Reader reader, Duration bound) {
        Path file = tmp.resolve(name);
        int[] loaded = {0};
        assertTimeoutPreemptively(bound, () -> {
            Random r = new Random(seed);
            for (int i = 0; i < attempts; i++) {
                byte[] b = mutate(seeds[i % seeds.length], r);
                Files.write(file, b);
                try {
                    reader.read(file, b);
                    loaded[0]++;
                } catch (IOException | IllegalArgumentException e) {
                    assertNotNull(e.getMessage(), "attempt " + i + ": " + e.getClass().getName() + " without a message");
                    assertFalse(e.getMessage().isBlank());
                } catch (Throwable t) {
                    fail("attempt " + i + " of " + name + " (seed " + seed + ") leaked " + t, t);
                }
            }
        }, name + ": fuzzing took longer than " + bound);
        return loaded[0];
    }

    @Test void csvReaderSurvivesMutatedFiles() throws IOException {
        byte[] auto = Files.readAllBytes(CsvTest.dataset("auto_mpg.csv"));
        byte[] small = "a,b,kind,y\n1.5,2,x,0\n-3e2,4,y,1\n\"q,1\",5,x,0\n7,,y,1\n".getBytes();
        // Prefixes of auto_mpg.csv keep each attempt fast; the cuts fall mid-row on purpose.
        byte[] head = Arrays.copyOf(auto, 2000), longer = Arrays.copyOf(auto, 6000);
        int loaded = fuzz("f.csv", new byte[][] {small, head, longer}, 2000, 1, (file, bytes) -> {
            Table t = Csv.read(file);
            assertTrue(t.rows() >= 1 && t.columns() >= 1);
            for (int r = 0; r < t.rows(); r++) assertEquals(t.columns(), t.columnNames().size());
            Dataset d = CsvSpec.of().withDrop(textColumns(t)).withMissing(MissingPolicy.DROP_ROWS).fit(t).apply(t);
            float[] x = d.features();
            for (float v : x) assertTrue(Float.isFinite(v));
        }, Duration.ofSeconds(60));
        assertTrue(loaded > 50, "only " + loaded + " of 2000 mutated CSV files loaded; the mutations are too harsh to test the load path");
    }

    static String[] textColumns(Table t) {
        return t.columnNames().stream().filter(c -> t.type(c) == ColumnType.TEXT && !c.equals(t.columnNames().getLast())).toArray(String[]::new);
    }

    @Test void idxReaderSurvivesMutatedFilesAndEveryLoadIsExact() throws IOException {
        byte[] img = IdxTest.images();
        byte[] lab = IdxTest.idx(Idx.UBYTE, new int[] {5}, new byte[] {0, 1, 2, 0, 1});
        byte[] big = IdxTest.idx(Idx.UBYTE, new int[] {20, 10, 10}, new byte[2000]);
        int loaded = fuzz("f.idx", new byte[][] {img, IdxTest.gzip(img), lab, IdxTest.gzip(big), big}, 2000, 2, FuzzTest::readIdxExactly, Duration.ofSeconds(60));
        assertTrue(loaded > 10, "only " + loaded + " mutated IDX files loaded");
    }

    /** Independent check: a successful load is exactly the payload after the header the file really has. */
    static void readIdxExactly(Path file, byte[] bytes) throws IOException {
        Idx.Array a = Idx.read(file);
        byte[] raw = bytes.length > 1 && (bytes[0] & 0xFF) == 0x1F && (bytes[1] & 0xFF) == 0x8B
                ? new GZIPInputStream(new ByteArrayInputStream(bytes)).readAllBytes() : bytes;
        int header = 4 + 4 * (raw[3] & 0xFF);
        int width = switch (raw[2]) { case 0x08, 0x09 -> 1; case 0x0B -> 2; case 0x0C, 0x0D -> 4; default -> 8; };
        assertEquals(raw.length - header, a.shape().size() * width, "payload length vs shape " + a.shape());
        if (raw[2] == 0x08) {
            float[] d = a.data();
            for (int i = 0; i < d.length; i++) assertEquals(raw[header + i] & 0xFF, d[i]);
        }
    }

    @Test void idxReaderSurvivesMutatedHeadersPastTheElementCap() throws IOException {
        // headers claiming just past the cap, raw and gzip (with a few KB of the zeros they claim): every mutant
        // must fail or load exactly, and none may decompress or allocate what its header claims
        int past = (int) Idx.MAX_ELEMENTS + 1;
        byte[] raw = IdxTest.idx(Idx.UBYTE, new int[] {past}, new byte[16]);
        byte[] gz = IdxTest.gzip(IdxTest.idx(Idx.UBYTE, new int[] {past}, new byte[4096]));
        byte[] wide = IdxTest.idx(Idx.UBYTE, new int[] {1 << 14, 1 << 14, 2}, new byte[8]);
        fuzz("h.idx", new byte[][] {raw, gz, wide, IdxTest.images()}, 500, 5, FuzzTest::readIdxExactly, Duration.ofSeconds(60));
    }

    @Test void csvReaderSurvivesMutatedFilesPastTheColumnAndRecordCaps() throws IOException {
        StringBuilder wide = new StringBuilder();
        for (int c = 0; c <= Csv.MAX_COLUMNS; c++) wide.append(c == 0 ? "" : ",").append('c').append(c);
        byte[] tooWide = (wide + "\n" + "1,".repeat(Csv.MAX_COLUMNS) + "1\n").getBytes();
        byte[] tooLong = ("a,b\n1,\"" + "x".repeat(Csv.MAX_RECORD_CHARS) + "\"\n2,y\n").getBytes();
        byte[] fine = "a,b\n1,x\n2,y\n".getBytes();
        int loaded = fuzz("h.csv", new byte[][] {tooWide, tooLong, fine}, 90, 6, (file, bytes) -> {
            Table t = Csv.read(file);
            assertTrue(t.columns() <= Csv.MAX_COLUMNS && t.rows() >= 1);
        }, Duration.ofSeconds(60));
        assertTrue(loaded > 0 && loaded < 90, loaded + " of 90 loaded; the small seed should load, the hostile ones should not");
    }

    @Test void imageReaderSurvivesMutatedFilesAndCorruptPngsNeverLoad() throws IOException {
        java.awt.image.BufferedImage src = ImageFolderTest.gradient(12, 9, 77);
        byte[] png = encode(src, "png"), bmp = encode(src, "bmp"), gif = encode(src, "gif"), jpg = encode(src, "jpg");
        float[] expected = ImageFolder.decode(write("orig.png", png), false, 1 << 20).pixels();
        fuzz("f.png", new byte[][] {png}, 1000, 3, (file, bytes) -> {
            ImageFolder.Decoded d = ImageFolder.decode(file, false, 1 << 20);
            assertArrayEquals(expected, d.pixels(), "a mutated PNG decoded to different pixels");
        }, Duration.ofSeconds(60));
        int otherLoaded = fuzz("f.img", new byte[][] {bmp, gif, jpg}, 1000, 4, (file, bytes) -> {
            // No checksums in these formats, so a load is checked for shape and range only.
            ImageFolder.Decoded d = ImageFolder.decode(file, false, 1 << 20);
            assertEquals(d.height() * d.width() * 3, d.pixels().length);
            for (float v : d.pixels()) assertTrue(v >= 0f && v <= 1f);
        }, Duration.ofSeconds(60));
        assertTrue(otherLoaded > 10, "only " + otherLoaded + " mutated BMP/GIF/JPEG files decoded");
    }

    Path write(String name, byte[] b) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, b);
        return p;
    }

    static byte[] encode(java.awt.image.BufferedImage img, String fmt) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, fmt, bo), "no writer for " + fmt);
        return bo.toByteArray();
    }
}
