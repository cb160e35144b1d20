package dev.kiln.io;

import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

public class SafetensorsTest {
    @TempDir Path dir;

    /** A file as the format defines it: u64 LE header length, header, data. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(data).array();
    }

    private static byte[] le(int bytesPerValue, long... values) {
        ByteBuffer b = ByteBuffer.allocate(bytesPerValue * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (bytesPerValue) {
                case 1 -> b.put((byte) v);
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return b.array();
    }

    private static byte[] floatsLe(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    @Test
    void writtenTensorsAndMetadataReadBackBitForBit() throws IOException {
        float[] w = {1f, -0f, Float.NaN, Float.MIN_VALUE, Float.MAX_VALUE, Float.NEGATIVE_INFINITY};
        float[] big = new float[300_000]; // spans several 1 MiB chunks
        Random rnd = new Random(7);
        for (int i = 0; i < big.length; i++) big[i] = (float) rnd.nextGaussian();
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        tensors.put("dense/kernel", new FloatTensor(Shape.of(2, 3), w));
        tensors.put("scalar", new FloatTensor(Shape.SCALAR, new float[] {3.5f}));
        tensors.put("big", new FloatTensor(Shape.of(300, 1000), big));
        Path p = dir.resolve("model.safetensors");
        Safetensors.write(p, tensors, Map.of("format", "kiln", "quote\"", "é"));

        Safetensors.File f = Safetensors.read(p);
        assertEquals(List.of("dense/kernel", "scalar", "big"), f.names());
        assertEquals(Map.of("format", "kiln", "quote\"", "é"), f.metadata());
        assertEquals(Shape.of(2, 3), f.shape("dense/kernel"));
        assertEquals(Shape.SCALAR, f.shape("scalar"));
        assertEquals(Safetensors.Dtype.F32, f.dtype("big"));
        assertArrayEquals(w, f.floats("dense/kernel")); // assertArrayEquals on float[] compares bits for NaN and -0
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(f.floats("dense/kernel")[1]));
        assertArrayEquals(new float[] {3.5f}, f.floats("scalar"));
        assertArrayEquals(big, f.floats("big"));

        byte[] raw = Files.readAllBytes(p);
        long headerLength = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLength) % 8, "data section starts 8-byte aligned");
        assertArrayEquals(big, Safetensors.read("in-memory", raw).floats("big"), "the in-memory reader agrees");
    }

    @Test
    void writeReplacesAnExistingFileAndLeavesNoTemporaryFiles() throws IOException {
        Path p = dir.resolve("w.safetensors");
        Safetensors.write(p, Map.of("a", new FloatTensor(Shape.of(1), new float[] {1})), Map.of());
        Safetensors.write(p, Map.of("b", new FloatTensor(Shape.of(2), new float[] {2, 3})), Map.of());
        Safetensors.File f = Safetensors.read(p);
        assertEquals(List.of("b"), f.names());
        assertEquals(Map.of(), f.metadata());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(p), files.toList());
        }
    }

    @Test
    void writeRejectsTheReservedMetadataNameAndLeavesNothingBehind() throws IOException {
        Path p = dir.resolve("bad.safetensors");
        assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(p, Map.of("__metadata__", new FloatTensor(Shape.of(1), new float[] {1})), Map.of()));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void otherDtypesConvertToFloat() throws IOException {
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[6,10]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[10,18]},"
                + "\"u\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[18,20]}}";
        byte[] data = new byte[20];
        // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff; BF16: 1.0 = 0x3f80, -0.5 = 0xbf00
        System.arraycopy(le(2, 0x3c00, 0xc000, 0x7bff), 0, data, 0, 6);
        System.arraycopy(le(2, 0x3f80, 0xbf00), 0, data, 6, 4);
        System.arraycopy(le(4, -7, 1 << 20), 0, data, 10, 8);
        System.arraycopy(le(1, 200, 3), 0, data, 18, 2);
        Safetensors.File f = Safetensors.read("mixed", file(header, data));
        assertArrayEquals(new float[] {1f, -2f, 65504f}, f.floats("h"));
        assertArrayEquals(new float[] {1f, -0.5f}, f.floats("b"));
        assertArrayEquals(new float[] {-7f, 1 << 20}, f.floats("i"));
        assertArrayEquals(new float[] {200f, 3f}, f.floats("u"));
    }

    private static final String TWO = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";

    /** Loads the bytes from disk and returns the message, which must name the file. */
    private String failure(byte[] bytes) throws IOException {
        Path p = dir.resolve("corrupt.safetensors");
        Files.write(p, bytes);
        IOException e = assertThrows(IOException.class, () -> {
            Safetensors.File f = Safetensors.read(p);
            for (String n : f.names()) f.floats(n);
        });
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String... parts) {
        for (String part : parts) assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
    }

    @Test
    void theValidReferenceFileLoads() throws IOException {
        Safetensors.File f = Safetensors.read("two", file(TWO, floatsLe(1, 2, 3)));
        assertArrayEquals(new float[] {1, 2}, f.floats("a"));
        assertArrayEquals(new float[] {3}, f.floats("b"));
    }

    @Test
    void corruptFilesFailWithMessagesNamingFileAndTensor() throws IOException {
        byte[] valid = file(TWO, floatsLe(1, 2, 3));
        assertContains(failure(new byte[5]), "too short");
        assertContains(failure(Arrays.copyOf(valid, 30)), "runs past the end");
        assertContains(failure(Arrays.copyOf(valid, valid.length - 2)), "tensor 'b'", "out of range");
        assertContains(failure(le(8, Long.MIN_VALUE + 5)), "exceeds the limit");
        assertContains(failure(le(8, 1L << 40)), "exceeds the limit");
        assertContains(failure(file(TWO.replace("[8,12]", "[4,8]"), floatsLe(1, 2))), "tensor 'b'", "overlap tensor 'a'");
        assertContains(failure(file(TWO.replace("[8,12]", "[12,16]"), floatsLe(1, 2, 3, 4))), "tensor 'b'", "unused");
        assertContains(failure(file(TWO, floatsLe(1, 2, 3, 4))), "4 bytes after the last tensor 'b'");
        assertContains(failure(file(TWO.replace("\"shape\":[1]", "\"shape\":[2]"), floatsLe(1, 2, 3))), "tensor 'b'", "needs 8 bytes", "span 4");
        assertContains(failure(file(TWO.replace("\"shape\":[1]", "\"shape\":[0]"), floatsLe(1, 2, 3))), "tensor 'b'", "dimension < 1");
        assertContains(failure(file(TWO.replace("\"shape\":[1]", "\"shape\":[65536,65536]"), floatsLe(1, 2, 3))), "tensor 'b'", "more elements");
        assertContains(failure(file(TWO.replace("\"F32\",\"shape\":[1]", "\"Q8\",\"shape\":[1]"), floatsLe(1, 2, 3))), "tensor 'b'", "unsupported dtype 'Q8'");
        assertContains(failure(file(TWO.replace("[8,12]", "[8]"), floatsLe(1, 2, 3))), "tensor 'b'", "data_offsets must be");
        assertContains(failure(file(TWO.replace("[8,12]", "[12,8]"), floatsLe(1, 2, 3))), "tensor 'b'", "out of range");
        assertContains(failure(file(TWO.replace("}}", "},}"), floatsLe(1, 2, 3))), "not valid JSON", "at byte");
        assertContains(failure(file(TWO.replace("{\"a\"", "{\"__metadata__\":{\"k\":1},\"a\""), floatsLe(1, 2, 3))), "__metadata__ value for 'k' must be a string");
        assertContains(failure(file(TWO.replace("\"dtype\":\"F32\",\"shape\":[1]", "\"dtype\":\"F32\",\"extra\":1,\"shape\":[1]"), floatsLe(1, 2, 3))), "tensor 'b'", "unexpected field 'extra'");
        assertContains(failure(file("[1]", new byte[0])), "must be a JSON object");
    }

    @Test
    void askingForAMissingTensorNamesTheTensorsThatExist() throws IOException {
        Safetensors.File f = Safetensors.read("two.safetensors", file(TWO, floatsLe(1, 2, 3)));
        IOException e = assertThrows(IOException.class, () -> f.floats("c"));
        assertContains(e.getMessage(), "two.safetensors", "'c'", "[a, b]");
    }

    @Test
    void fileTruncatedAfterOpeningFailsOnReadNamingTheTensor() throws IOException {
        Path p = dir.resolve("shrinks.safetensors");
        byte[] valid = file(TWO, floatsLe(1, 2, 3));
        Files.write(p, valid);
        Safetensors.File f = Safetensors.read(p);
        Files.write(p, Arrays.copyOf(valid, valid.length - 3));
        IOException e = assertThrows(IOException.class, () -> f.floats("b"));
        assertContains(e.getMessage(), p.toString(), "tensor 'b'");
    }

    @Test
    void seededMutationsEndInACleanLoadOrAnIOException() throws IOException {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        tensors.put("conv/w", new FloatTensor(Shape.of(3, 3, 2, 4), new float[72]));
        tensors.put("conv/b", new FloatTensor(Shape.of(4), new float[] {1, 2, 3, 4}));
        tensors.put("s", new FloatTensor(Shape.SCALAR, new float[] {5}));
        // as another writer would: no checksum, so mutations reach the header's validation and loads stay common
        byte[] valid = unchecked(tensors, Map.of("epoch", "12"));
        int headerEnd = 8 + (int) ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();

        int[] outcomes = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(90), () -> {
            Random rnd = new Random(1234);
            for (int iter = 0; iter < 4000; iter++) {
                byte[] b = mutate(valid, headerEnd, rnd);
                try {
                    Safetensors.File f = Safetensors.read("mutant " + iter, b);
                    for (String n : f.names()) assertEquals(f.shape(n).size(), f.floats(n).length);
                    outcomes[0]++;
                } catch (IOException expected) {
                    assertTrue(expected.getMessage().startsWith("mutant " + iter + ": "), expected.getMessage());
                    outcomes[1]++;
                }
            }
        });
        assertTrue(outcomes[0] > 100 && outcomes[1] > 100, "both outcomes should be common: loaded " + outcomes[0] + ", rejected " + outcomes[1]);
    }

    /** A safetensors file of F32 tensors as a writer without Kiln's checksum makes it. */
    /** The bytes of a safetensors file without the checksum entry (a file as Kiln wrote it before checksums); ModelFileTest uses it too. */
    public static byte[] unchecked(Map<String, FloatTensor> tensors, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<String, Object>(metadata));
        ByteBuffer data = ByteBuffer.allocate(tensors.values().stream().mapToInt(t -> 4 * t.data().length).sum()).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, FloatTensor> kv : tensors.entrySet()) {
            header.put(kv.getKey(), Map.of("dtype", "F32", "shape", kv.getValue().shape().toList(),
                    "data_offsets", List.of(data.position(), data.position() + 4 * kv.getValue().data().length)));
            for (float v : kv.getValue().data()) data.putFloat(v);
        }
        return file(Json.write(header), data.array());
    }

    /** A header with {@code n} F32 scalars named t0, t1, ..., and their data. */
    static byte[] scalars(int n) {
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < n; i++) {
            h.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[")
                    .append(4L * i).append(',').append(4L * i + 4).append("]}");
        }
        return file(h.append('}').toString(), new byte[4 * n]);
    }

    /** "[" + unit × n (comma-separated) + "]" */
    private static String list(String unit, int n) {
        return "[" + (unit + ",").repeat(n - 1) + unit + "]";
    }

    @Test
    void hostileHeadersFailAtTheirCapNamingTheFileTheCapAndTheValue() throws IOException {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            // each is a header that today's Kiln validates only after building it whole; within the caps it loads
            assertContains(failure(file(TWO.replace("\"shape\":[1]", "\"shape\":" + list("1", 9)), floatsLe(1, 2, 3))),
                    "tensor 'b'", "rank 9", "limit of " + Safetensors.MAX_RANK);
            assertEquals(Shape.of(1, 1, 1, 1, 1, 1, 1, 1), Safetensors.read("rank 8", file(TWO.replace("\"shape\":[1]", "\"shape\":" + list("1", 8)), floatsLe(1, 2, 3))).shape("b"));
            assertContains(failure(scalars(Safetensors.MAX_TENSORS + 1)), "65537 tensors", "limit of 65536");
            assertEquals(Safetensors.MAX_TENSORS, Safetensors.read("most tensors", scalars(Safetensors.MAX_TENSORS)).names().size());
            assertContains(failure(file("{\"a\":" + list("{}", 70_000) + "}", new byte[0])), "exceeds a limit", "more than 65537 entries in one array");
            assertContains(failure(file("{\"a\":[[[[1]]]]}", new byte[0])), "exceeds a limit", "nesting deeper than 3", "at byte 7");
            assertContains(failure(file("{\"a\":" + list(list("1", 60_000), 16) + "}", new byte[0])), "exceeds a limit", "values in the document");
            String huge = "x".repeat(Safetensors.MAX_STRING_BYTES + 1);
            assertContains(failure(file("{\"__metadata__\":{\"m\":\"" + huge + "\"}}", new byte[0])), "string longer than " + Safetensors.MAX_STRING_BYTES);
            StringBuilder meta = new StringBuilder("{\"__metadata__\":{");
            for (int i = 0; i <= Safetensors.MAX_METADATA_ENTRIES; i++) meta.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
            assertContains(failure(file(meta.append("}}").toString(), new byte[0])), "__metadata__ holds 1025 entries", "limit of 1024");
            assertContains(failure(file("  [{},{}]", new byte[0])), "must be a JSON object, found '[' at byte 2");
        });
    }

    /** {@code prefix + "{"k0"value,"k1"value,...}"} with n keys */
    private static String keys(String prefix, String value, int n) {
        StringBuilder sb = new StringBuilder(prefix).append('{');
        for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ",").append("\"k").append(i).append('"').append(value);
        return sb.append('}').toString();
    }

    @Test
    void mutatedHostileHeadersFailOrLoadWithinTheirCaps() {
        byte[][] seeds = {
                file("{\"a\":" + list("{}", 70_000) + "}", new byte[0]),
                file("{\"a\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}", new byte[0]),
                file(TWO.replace("\"shape\":[1]", "\"shape\":" + list("1", 9)), floatsLe(1, 2, 3)),
                file(keys("{\"__metadata__\":", ":\"v\"", 1100) + "}", new byte[0]),
                file(keys("", ":0", 70_000), new byte[0]),
                file(TWO, floatsLe(1, 2, 3)),
        };
        int[] loaded = {0};
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Random rnd = new Random(14);
            for (int iter = 0; iter < 180; iter++) {
                byte[] seed = seeds[iter % seeds.length];
                byte[] b = mutate(seed, 8 + (int) ByteBuffer.wrap(seed, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(), rnd);
                try {
                    Safetensors.File f = Safetensors.read("mutant " + iter, b);
                    assertTrue(f.names().size() <= Safetensors.MAX_TENSORS && f.metadata().size() <= Safetensors.MAX_METADATA_ENTRIES);
                    for (String n : f.names()) assertTrue(f.shape(n).rank() <= Safetensors.MAX_RANK && f.floats(n).length == f.shape(n).size());
                    loaded[0]++;
                } catch (IOException expected) {
                    assertTrue(expected.getMessage().startsWith("mutant " + iter + ": "), expected.getMessage());
                }
            }
        });
        assertTrue(loaded[0] > 0, "no mutant loaded: the valid seed should survive some mutations");
    }

    @Test
    void writtenFilesCarryAChecksumThatReadsVerifyAndOtherFilesNeedNone() throws IOException {
        Path p = dir.resolve("sum.safetensors");
        Safetensors.write(p, Map.of("w", new FloatTensor(Shape.of(2), new float[] {1, 2})), Map.of("epoch", "3"));
        Safetensors.File f = Safetensors.read(p);
        assertTrue(f.checksummed());
        assertEquals(Map.of("epoch", "3"), f.metadata(), "the checksum entry is the reader's, not the caller's");
        String header = new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{\"__metadata__\":{\"kiln.crc32c\":\"", 8), header);
        // a file from another writer has no checksum and loads as before
        Safetensors.File other = Safetensors.read("other", file(TWO, floatsLe(1, 2, 3)));
        assertFalse(other.checksummed());
        assertArrayEquals(new float[] {3}, other.floats("b"));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("r.safetensors"), Map.of(), Map.of(Safetensors.CHECKSUM_KEY, "0")));
    }

    @Test
    void everyFlippedBitOfAWrittenFileFailsTheReadUnlessItRenamesTheChecksumKey() throws IOException {
        Path p = dir.resolve("flip.safetensors");
        Safetensors.write(p, Map.of("w", new FloatTensor(Shape.of(3), new float[] {1, -2, 0.5f})), Map.of("trainable", "false"));
        byte[] valid = Files.readAllBytes(p);
        int keyAt = new String(valid, StandardCharsets.ISO_8859_1).indexOf(Safetensors.CHECKSUM_KEY);
        int headerEnd = 8 + (int) ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int dataFlipsCaught = 0;
        for (int bit = 0; bit < 8 * valid.length; bit++) {
            byte[] b = valid.clone();
            b[bit / 8] ^= (byte) (1 << (bit % 8));
            try {
                Safetensors.File f = Safetensors.read("flip " + bit, b);
                for (String n : f.names()) f.floats(n);
                // a flip inside the key's name leaves a file with no checksum entry: that is ModelFile's to catch
                assertTrue(bit / 8 >= keyAt && bit / 8 < keyAt + Safetensors.CHECKSUM_KEY.length() && !f.checksummed(), "bit " + bit + " (byte " + bit / 8 + ") loaded");
            } catch (IOException expected) {
                assertTrue(expected.getMessage().startsWith("flip " + bit + ": "), expected.getMessage());
                if (bit / 8 >= headerEnd) {
                    assertContains(expected.getMessage(), "CRC32C checksum mismatch");
                    dataFlipsCaught++;
                }
            }
        }
        assertEquals(8 * (valid.length - headerEnd), dataFlipsCaught);
    }

    private static byte[] mutate(byte[] valid, int headerEnd, Random rnd) {
        byte[] b = Arrays.copyOf(valid, valid.length);
        switch (rnd.nextInt(5)) {
            case 0 -> { // flip bytes in the header, where the structure lives
                for (int k = 1 + rnd.nextInt(3); k > 0; k--) b[8 + rnd.nextInt(headerEnd - 8)] = (byte) rnd.nextInt(256);
            }
            case 1 -> { // replace a digit by another, keeping the JSON valid more often
                for (int k = 0; k < 20; k++) {
                    int i = 8 + rnd.nextInt(headerEnd - 8);
                    if (b[i] >= '0' && b[i] <= '9') { b[i] = (byte) ('0' + rnd.nextInt(10)); break; }
                }
            }
            case 2 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 16)); // truncate or extend with zeros
            case 3 -> b[rnd.nextInt(8)] = (byte) rnd.nextInt(256); // header length
            default -> { // data, or the header when there is none
                int at = b.length > headerEnd ? headerEnd + rnd.nextInt(b.length - headerEnd) : 8 + rnd.nextInt(headerEnd - 8);
                b[at] ^= (byte) (1 << rnd.nextInt(8));
            }
        }
        return b;
    }
}
