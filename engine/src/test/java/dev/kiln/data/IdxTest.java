package dev.kiln.data;

import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class IdxTest {
    @TempDir Path tmp;

    /** An IDX file: magic 0x0000TTRR, big-endian dims, then the payload. */
    static byte[] idx(int type, int[] dims, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + payload.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        b.put(payload);
        return b.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(bo)) { g.write(raw); }
        return bo.toByteArray();
    }

    /** 5 images of 3x4 with pixel (n, h, w) = 10n + 3h + w, and 5 labels n % 3. */
    static byte[] images() {
        byte[] p = new byte[5 * 3 * 4];
        for (int n = 0; n < 5; n++) for (int h = 0; h < 3; h++) for (int w = 0; w < 4; w++) p[n * 12 + h * 4 + w] = (byte) (10 * n + 3 * h + w + 200 * (n == 4 ? 1 : 0));
        return idx(Idx.UBYTE, new int[] {5, 3, 4}, p);
    }

    Path write(String name, byte[] b) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, b);
        return p;
    }

    @Test void ubyteImagesRoundTripScaledToUnitRangeRawAndGzip() throws IOException {
        for (boolean gz : new boolean[] {false, true}) {
            Path p = write("img" + gz, gz ? gzip(images()) : images());
            Idx.Array a = Idx.readImages(p);
            assertEquals(Shape.of(5, 3, 4, 1), a.shape());
            float[] d = a.data();
            assertEquals((10 * 2 + 3 * 1 + 2) / 255f, d[2 * 12 + 1 * 4 + 2], 1e-7f);
            assertEquals((40 + 3 * 2 + 3 + 200) / 255f, d[4 * 12 + 2 * 4 + 3], 1e-7f);   // 249: unsigned, not negative
        }
        byte[] labels = idx(Idx.UBYTE, new int[] {5}, new byte[] {0, 1, 2, 0, 1});
        Dataset ds = Idx.dataset(Idx.readImages(write("i", images())), Idx.readLabels(write("l", gzip(labels))));
        assertEquals(5, ds.size());
        assertEquals(2f, ds.label(2));
        ds.requireClassLabels(3);
    }

    @Test void floatAndIntTypesReadExactly() throws IOException {
        ByteBuffer f = ByteBuffer.allocate(12).putFloat(1.5f).putFloat(-2.25f).putFloat(1e-3f);
        Idx.Array a = Idx.read(write("f", idx(Idx.FLOAT, new int[] {3}, f.array())));
        assertArrayEquals(new float[] {1.5f, -2.25f, 1e-3f}, a.data());
        ByteBuffer s = ByteBuffer.allocate(4).putShort((short) -300).putShort((short) 7);
        assertArrayEquals(new float[] {-300, 7}, Idx.read(write("s", idx(Idx.SHORT, new int[] {2}, s.array()))).data());
        ByteBuffer nan = ByteBuffer.allocate(4).putFloat(Float.NaN);
        var e = assertThrows(IOException.class, () -> Idx.read(write("n", idx(Idx.FLOAT, new int[] {1}, nan.array()))));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    }

    @Test void truncatedAndLyingHeadersFailWithoutAllocating() throws IOException {
        byte[] good = images();
        var cut = assertThrows(IOException.class, () -> Idx.read(write("cut", java.util.Arrays.copyOf(good, good.length - 1))));
        assertTrue(cut.getMessage().contains("truncated"), cut.getMessage());
        var cutGz = assertThrows(IOException.class, () -> Idx.read(write("cutgz", java.util.Arrays.copyOf(gzip(good), gzip(good).length - 9))));
        assertTrue(cutGz.getMessage().contains("truncated") || cutGz.getMessage().contains("corrupt"), cutGz.getMessage());
        // A header claiming 60000 x 28000 x 1 bytes (1.68e9) in a 20-byte file: rejected before allocating.
        byte[] lying = idx(Idx.UBYTE, new int[] {60000, 28000, 1}, new byte[4]);
        for (byte[] b : new byte[][] {lying, gzip(lying)}) {
            var e = assertThrows(IOException.class, () -> Idx.read(write("lie", b)));
            assertTrue(e.getMessage().contains("[60000, 28000, 1]"), e.getMessage());
        }
        var overflow = assertThrows(IOException.class, () -> Idx.read(write("ovf", idx(Idx.DOUBLE, new int[] {65536, 65536}, new byte[8]))));
        assertTrue(overflow.getMessage().contains("more than"), overflow.getMessage());
        var zero = assertThrows(IOException.class, () -> Idx.read(write("zero", idx(Idx.UBYTE, new int[] {3, 0}, new byte[0]))));
        assertTrue(zero.getMessage().contains("dimension 1 is 0"), zero.getMessage());
        var extra = assertThrows(IOException.class, () -> Idx.read(write("extra", idx(Idx.UBYTE, new int[] {2}, new byte[3]))));
        assertTrue(extra.getMessage().contains("data after"), extra.getMessage());
        var magic = assertThrows(IOException.class, () -> Idx.read(write("magic", new byte[] {1, 2, 8, 1, 0, 0, 0, 1, 5})));
        assertTrue(magic.getMessage().contains("not an IDX file"), magic.getMessage());
        var type = assertThrows(IOException.class, () -> Idx.read(write("type", idx(0x42, new int[] {1}, new byte[1]))));
        assertTrue(type.getMessage().contains("unknown IDX element type 0x42"), type.getMessage());
        var empty = assertThrows(IOException.class, () -> Idx.read(write("empty", new byte[0])));
        assertTrue(empty.getMessage().contains("too short"), empty.getMessage());
        var rank = assertThrows(IOException.class, () -> Idx.readLabels(write("rank", images())));
        assertTrue(rank.getMessage().contains("rank 1"), rank.getMessage());
    }

    @Test void mismatchedImageAndLabelCountsAreNamed() throws IOException {
        var e = assertThrows(IllegalArgumentException.class, () -> Idx.dataset(Idx.readImages(write("i", images())),
                Idx.readLabels(write("l", idx(Idx.UBYTE, new int[] {4}, new byte[4])))));
        assertTrue(e.getMessage().contains("5 images but 4 labels"), e.getMessage());
    }

    @Test void fashionMnistFromTheDebianPackageWhenInstalled() throws IOException {
        var files = FashionMnist.locate();
        Assumptions.assumeTrue(files.isPresent(), FashionMnist.INSTALL_HINT);
        Idx.Array labels = Idx.readLabels(files.get().testLabels());
        Idx.Array images = Idx.readImages(files.get().testImages());
        assertEquals(Shape.of(10000, 28, 28, 1), images.shape());
        Dataset test = Idx.dataset(images, labels).requireClassLabels(10);
        int[] perClass = new int[10];
        for (int i = 0; i < test.size(); i++) perClass[(int) test.label(i)]++;
        for (int c : perClass) assertEquals(1000, c);   // Fashion-MNIST's test set is balanced
        float min = 1, max = 0;
        for (float v : images.data()) { min = Math.min(min, v); max = Math.max(max, v); }
        assertEquals(0f, min);
        assertEquals(1f, max);
    }

    @Test void fashionMnistLocateInAFolderWithoutTheFilesIsEmpty() {
        assertTrue(FashionMnist.locate(tmp).isEmpty());
        assertTrue(FashionMnist.INSTALL_HINT.contains("apt-get install -y dataset-fashion-mnist"));
    }

    /** A gzip IDX of ubyte [n] whose payload really is n zero bytes: deflate's ~1000:1 makes it small. */
    static byte[] gzipBomb(int n) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(bo, 1 << 16) {{ def.setLevel(java.util.zip.Deflater.BEST_SPEED); }}) {
            g.write(idx(Idx.UBYTE, new int[] {n}, new byte[0]));
            byte[] zeros = new byte[1 << 20];
            for (int left = n; left > 0; left -= zeros.length) g.write(zeros, 0, Math.min(left, zeros.length));
        }
        return bo.toByteArray();
    }

    @Test void gzipBombPastTheElementCapFailsBeforeDecompressing() throws IOException {
        int claimed = 300_000_000;   // > Idx.MAX_ELEMENTS = 2^28, and within deflate's ratio of the compressed size
        Path bomb = write("bomb.idx.gz", gzipBomb(claimed));
        assertTrue(Files.size(bomb) * 1100 > claimed, "the compressed size must not give the lie away by itself");
        var e = assertThrows(IOException.class, () -> assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> Idx.read(bomb)));
        assertTrue(e.getMessage().startsWith(bomb.toString()) && e.getMessage().contains("[300000000]")
                && e.getMessage().contains("limit of " + Idx.MAX_ELEMENTS), e.getMessage());
    }
}
