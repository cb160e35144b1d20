package dev.kiln.io;

import dev.kiln.tensor.Shape;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * The safetensors format (huggingface/safetensors): an unsigned 64-bit little-endian header length n,
 * n bytes of UTF-8 JSON {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}},
 * then the data section, each tensor's bytes little-endian and row-major at [begin, end) relative to its start.
 *
 * <p>Reading validates the whole header before any tensor is touched: every malformed file (truncated, header
 * length past the end, offsets out of range, overlapping or leaving holes, shape and byte count that disagree,
 * unsupported dtype, oversized header) fails with an {@link IOException} naming the file and, where there is one,
 * the tensor. The header is mapped, not copied, and parsed under caps on its tensors, rank, metadata entries,
 * string lengths, nesting and value count ({@link #MAX_TENSORS}, {@link #MAX_RANK}, ...), so a hostile header
 * fails at the first value past a cap, having allocated no more than a valid header of that size would.
 * Tensor data is read on demand in bounded chunks, so a file never costs more memory than the
 * float arrays asked for. Writing produces F32 and is atomic: a temporary file in the same folder, moved into place.
 *
 * <p>Kiln writes a CRC32C checksum of the whole file (but its own 8 digits) as the first {@code __metadata__}
 * entry, {@value #CHECKSUM_KEY}; reading verifies it when present, so a changed byte anywhere fails the read instead
 * of loading wrong weights. Other readers see one more metadata string. Files without the entry (other writers,
 * Kiln before the checksum) load unverified; {@link File#checksummed()} tells which.
 *
 * <pre>{@code
 * Safetensors.write(path, Map.of("w", new FloatTensor(Shape.of(2, 2), new float[] {1, 2, 3, 4})), Map.of("epoch", "3"));
 * Safetensors.File f = Safetensors.read(path);
 * float[] w = f.floats("w");   // f.shape("w") == [2, 2], f.metadata().get("epoch") == "3"
 * }</pre>
 */
public final class Safetensors {
    /** The reference implementation's limit; a larger length is corruption, not a header. */
    public static final long MAX_HEADER_BYTES = 100_000_000;
    /**
     * Most tensors in one file. Checkpoints split into shards of a few hundred tensors each, and Kiln's own models
     * hold a few hundred; 65,536 leaves room while bounding what validating a header costs (~100 bytes a tensor).
     */
    public static final int MAX_TENSORS = 1 << 16;
    /** Highest rank read: Kiln's tensors and the checkpoints it imports have rank 5 at most (3-D convolution kernels). */
    public static final int MAX_RANK = 8;
    /** Most {@code __metadata__} entries: writers store a handful (format, version, Kiln's architecture document). */
    public static final int MAX_METADATA_ENTRIES = 1024;
    /** Longest string in a header: a metadata value such as Kiln's architecture document (~1 KB a layer). */
    public static final int MAX_STRING_BYTES = 16 << 20;
    /**
     * The metadata key of the CRC32C checksum Kiln writes: 8 lowercase hex digits over every byte of the file except
     * those 8 digits. Kiln writes the entry first in {@code __metadata__}, which comes first in the header, so the
     * digits sit at a fixed offset ({@link #CHECKSUM_PREFIX}) and the reader can leave them out of the sum it checks.
     */
    public static final String CHECKSUM_KEY = "kiln.crc32c";
    static final String METADATA = "__metadata__";
    private static final byte[] CHECKSUM_PREFIX = ("{\"" + METADATA + "\":{\"" + CHECKSUM_KEY + "\":\"").getBytes(StandardCharsets.US_ASCII);
    /** The file offset of the checksum's digits. */
    static final int CHECKSUM_AT = 8 + CHECKSUM_PREFIX.length;
    /**
     * How a header may be shaped: a top object of tensors (depth 1) holding entry objects and the metadata
     * (depth 2) holding shape and data_offsets lists (depth 3). The value count follows from the caps above
     * (per tensor: its entry, dtype, shape, up to MAX_RANK dimensions, data_offsets and its two ends), so the
     * parse stops, and stops allocating, at the first value past what a valid header could hold.
     */
    private static final Json.Limits HEADER_LIMITS = new Json.Limits((int) MAX_HEADER_BYTES, 3,
            Math.max(MAX_TENSORS + 1, MAX_METADATA_ENTRIES), 2 + MAX_TENSORS * (6 + MAX_RANK) + MAX_METADATA_ENTRIES, MAX_STRING_BYTES);
    static final int CHUNK_BYTES = 1 << 20;

    /** Element types Kiln reads; each converts to float. Others (BOOL, U16, F8_*, ...) are rejected by name. */
    public enum Dtype {
        F32(4), F64(8), F16(2), BF16(2), I64(8), I32(4), I8(1), U8(1);

        public final int bytes;

        Dtype(int bytes) { this.bytes = bytes; }
    }

    private record Entry(String name, Dtype dtype, Shape shape, long begin, long end) {}

    /** Where the bytes of a validated file come from: a file on disk, or an array (e.g. a classpath resource). */
    private sealed interface Source permits PathSource, BytesSource {
        /** Fills {@code dst} from absolute byte offset {@code at}, or fails if the source ends first. */
        void readFully(long at, ByteBuffer dst) throws IOException;
    }

    private record PathSource(Path path) implements Source {
        public void readFully(long at, ByteBuffer dst) throws IOException {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                readFully(ch, at, dst, path.toString());
            }
        }

        static void readFully(FileChannel ch, long at, ByteBuffer dst, String source) throws IOException {
            long p = at;
            while (dst.hasRemaining()) {
                int n = ch.read(dst, p);
                if (n < 0) throw new IOException(source + ": file ends at byte " + p + ", expected " + dst.remaining() + " more bytes (truncated or changed after opening?)");
                p += n;
            }
        }
    }

    private record BytesSource(String name, byte[] bytes) implements Source {
        public void readFully(long at, ByteBuffer dst) throws IOException {
            if (at + dst.remaining() > bytes.length) throw new IOException(name + ": ends at byte " + bytes.length + ", expected " + (at + dst.remaining()));
            dst.put(bytes, (int) at, dst.remaining());
        }
    }

    /** A validated safetensors file; tensor data is read when asked for. */
    public static final class File {
        private final String source;
        private final Source data;
        private final long dataStart;
        private final Map<String, Entry> entries;
        private final Map<String, String> metadata;
        private final boolean checksummed;

        private File(String source, Source data, long dataStart, Map<String, Entry> entries, Map<String, String> metadata, boolean checksummed) {
            this.source = source;
            this.data = data;
            this.dataStart = dataStart;
            this.entries = entries;
            this.metadata = metadata;
            this.checksummed = checksummed;
        }

        /**
         * Whether the file carried Kiln's CRC32C checksum, which then matched (a mismatch fails the read). Files from
         * other writers, and Kiln files written before the checksum existed, have none.
         */
        public boolean checksummed() { return checksummed; }

        /** The file (or resource) this was read from, as named in error messages. */
        public String source() { return source; }

        /** Tensor names in header order. */
        public List<String> names() { return List.copyOf(entries.keySet()); }

        public boolean contains(String name) { return entries.containsKey(name); }

        /** The string-to-string {@code __metadata__} map, without the checksum entry; empty when the file has none. */
        public Map<String, String> metadata() { return metadata; }

        public Shape shape(String name) throws IOException { return entry(name).shape(); }

        public Dtype dtype(String name) throws IOException { return entry(name).dtype(); }

        /** The tensor's values, converted to float, row-major. */
        public float[] floats(String name) throws IOException {
            Entry e = entry(name);
            float[] out = new float[e.shape().size()];
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
            int done = 0;
            long at = dataStart + e.begin();
            while (done < out.length) {
                int count = Math.min(out.length - done, buf.capacity() / e.dtype().bytes);
                buf.clear().limit(count * e.dtype().bytes);
                try {
                    data.readFully(at, buf);
                } catch (IOException cause) {
                    throw new IOException(source + ": tensor '" + name + "': cannot read its data: " + cause.getMessage(), cause);
                }
                buf.flip();
                convert(e.dtype(), buf, out, done, count);
                done += count;
                at += (long) count * e.dtype().bytes;
            }
            return out;
        }

        public FloatTensor tensor(String name) throws IOException { return new FloatTensor(shape(name), floats(name)); }

        private Entry entry(String name) throws IOException {
            Entry e = entries.get(name);
            if (e == null) throw new IOException(source + ": has no tensor '" + name + "'; it has " + entries.keySet());
            return e;
        }
    }

    private Safetensors() {}

    public static File read(Path path) throws IOException {
        String source = path.toString();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = ch.size();
            long n = headerLength(source, size, at -> {
                ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                PathSource.readFully(ch, 0, b, source);
                return b.flip().getLong();
            });
            // Mapped, not copied: a header that fails early costs the pages read up to the failure, not n bytes of heap.
            MemorySegment header = ch.map(FileChannel.MapMode.READ_ONLY, 8, n, arena);
            return parse(source, new PathSource(path), header, size, crc -> {
                ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, size));
                sum(ch, 0, CHECKSUM_AT, buf, crc, source);
                sum(ch, CHECKSUM_AT + 8, size, buf, crc, source);
            });
        }
    }

    private static void sum(FileChannel ch, long from, long to, ByteBuffer buf, Checksum crc, String source) throws IOException {
        for (long at = from; at < to; at += buf.limit()) {
            buf.clear().limit((int) Math.min(buf.capacity(), to - at));
            PathSource.readFully(ch, at, buf, source);
            crc.update(buf.array(), 0, buf.limit());
        }
    }

    /** Reads a file held in memory (a classpath resource, a download); {@code source} names it in errors. */
    public static File read(String source, byte[] bytes) throws IOException {
        long n = headerLength(source, bytes.length, at -> ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
        return parse(source, new BytesSource(source, bytes), MemorySegment.ofArray(bytes).asSlice(8, n), bytes.length, crc -> {
            crc.update(bytes, 0, CHECKSUM_AT);
            crc.update(bytes, CHECKSUM_AT + 8, bytes.length - CHECKSUM_AT - 8);
        });
    }

    /** Feeds every byte of the file except the checksum's 8 digits into a checksum. */
    private interface ChecksumReader { void read(Checksum crc) throws IOException; }

    private interface LengthReader { long read(long at) throws IOException; }

    private static long headerLength(String source, long size, LengthReader reader) throws IOException {
        if (size < 8) throw new IOException(source + ": " + size + " bytes is too short for a safetensors file (8-byte header length missing)");
        long n = reader.read(0);
        // the length is an unsigned 64-bit value, so a negative long is a huge length
        if (n < 0 || n > MAX_HEADER_BYTES) throw new IOException(source + ": header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (corrupt file?)");
        if (n < 2) throw new IOException(source + ": header length " + n + " is too short for a JSON object");
        if (8 + n > size) throw new IOException(source + ": header length " + n + " runs past the end of the " + size + "-byte file (truncated?)");
        return n;
    }

    private static File parse(String source, Source data, MemorySegment header, long fileSize, ChecksumReader checksum) throws IOException {
        long dataLength = fileSize - 8 - header.byteSize();
        // a header that is not an object fails here, before the parser builds whatever it is
        long first = 0;
        while (first < header.byteSize() && Character.isWhitespace(header.get(ValueLayout.JAVA_BYTE, first))) first++;
        if (first == header.byteSize() || header.get(ValueLayout.JAVA_BYTE, first) != '{') {
            throw new IOException(source + ": header must be a JSON object, found " + (first == header.byteSize() ? "only whitespace" : "'" + (char) (header.get(ValueLayout.JAVA_BYTE, first) & 0xff) + "' at byte " + first));
        }
        Object root;
        try {
            root = Json.parse(header, HEADER_LIMITS);
        } catch (Json.LimitException e) {
            throw new IOException(source + ": header exceeds a limit: " + e.getMessage() + " of the header (a safetensors header Kiln reads holds at most "
                    + MAX_TENSORS + " tensors of rank <= " + MAX_RANK + ", " + MAX_METADATA_ENTRIES + " metadata entries, strings up to " + MAX_STRING_BYTES + " bytes); the file is corrupt or not a model", e);
        } catch (Json.SyntaxException e) {
            throw new IOException(source + ": header is not valid JSON: " + e.getMessage() + " of the header", e);
        }
        if (!(root instanceof Map<?, ?> top)) throw new IOException(source + ": header must be a JSON object");
        Map<String, String> metadata = Map.of();
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<?, ?> kv : top.entrySet()) {
            String name = (String) kv.getKey();
            if (name.equals(METADATA)) metadata = metadata(source, kv.getValue());
            else entries.put(name, entry(source, name, kv.getValue(), dataLength));
        }
        if (entries.size() > MAX_TENSORS) throw new IOException(source + ": header holds " + entries.size() + " tensors, more than the limit of " + MAX_TENSORS + " (corrupt file?)");
        checkCoverage(source, entries, dataLength);
        boolean checksummed = metadata.containsKey(CHECKSUM_KEY);
        if (checksummed) {
            verifyChecksum(source, header, metadata.get(CHECKSUM_KEY), checksum);
            Map<String, String> rest = new LinkedHashMap<>(metadata);
            rest.remove(CHECKSUM_KEY);
            metadata = Collections.unmodifiableMap(rest);
        }
        return new File(source, data, 8 + header.byteSize(), Collections.unmodifiableMap(entries), metadata, checksummed);
    }

    private static void verifyChecksum(String source, MemorySegment header, String stored, ChecksumReader reader) throws IOException {
        // the sum leaves out the digits at CHECKSUM_AT, so they must be the entry the metadata holds
        boolean inPlace = header.byteSize() >= CHECKSUM_PREFIX.length + 8 && stored.length() == 8;
        for (int i = 0; inPlace && i < CHECKSUM_PREFIX.length + 8; i++) {
            byte expected = i < CHECKSUM_PREFIX.length ? CHECKSUM_PREFIX[i] : (byte) stored.charAt(i - CHECKSUM_PREFIX.length);
            inPlace = header.get(ValueLayout.JAVA_BYTE, i) == expected;
        }
        if (!inPlace || !stored.matches("[0-9a-f]{8}")) {
            throw new IOException(source + ": checksum entry '" + CHECKSUM_KEY + "' is not 8 hex digits first in " + METADATA + ", where Kiln writes it;"
                    + " the file is corrupt or was rewritten by another tool (save it again with Kiln)");
        }
        Checksum crc = new CRC32C();
        reader.read(crc);
        String actual = hex8(crc.getValue());
        if (!actual.equals(stored)) {
            throw new IOException(source + ": CRC32C checksum mismatch: the file records " + stored + " but its bytes sum to " + actual
                    + "; it is corrupt (changed or damaged bytes), restore it from a copy or save it again");
        }
    }

    static String hex8(long crc) { return String.format("%08x", crc); }

    private static Map<String, String> metadata(String source, Object value) throws IOException {
        if (!(value instanceof Map<?, ?> m)) throw new IOException(source + ": " + METADATA + " must be an object of strings");
        if (m.size() > MAX_METADATA_ENTRIES) throw new IOException(source + ": " + METADATA + " holds " + m.size() + " entries, more than the limit of " + MAX_METADATA_ENTRIES);
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> kv : m.entrySet()) {
            if (!(kv.getValue() instanceof String s)) throw new IOException(source + ": " + METADATA + " value for '" + kv.getKey() + "' must be a string, got " + Json.write(kv.getValue()));
            out.put((String) kv.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry entry(String source, String name, Object value, long dataLength) throws IOException {
        String where = source + ": tensor '" + name + "': ";
        if (!(value instanceof Map<?, ?> m)) throw new IOException(where + "entry must be an object with dtype, shape and data_offsets");
        for (Object key : m.keySet()) {
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) throw new IOException(where + "unexpected field '" + key + "'");
        }
        if (!(m.get("dtype") instanceof String dtypeName)) throw new IOException(where + "dtype must be a string");
        Dtype dtype = null;
        for (Dtype d : Dtype.values()) if (d.name().equals(dtypeName)) dtype = d;
        if (dtype == null) throw new IOException(where + "unsupported dtype '" + dtypeName + "'; Kiln reads " + List.of(Dtype.values()));

        if (!(m.get("shape") instanceof List<?> dimList)) throw new IOException(where + "shape must be a list of integers");
        if (dimList.size() > MAX_RANK) throw new IOException(where + "shape has rank " + dimList.size() + ", more than the limit of " + MAX_RANK);
        int[] dims = new int[dimList.size()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            if (!(dimList.get(i) instanceof Long d)) throw new IOException(where + "shape " + Json.write(dimList) + " must hold integers");
            if (d < 1) throw new IOException(where + "shape " + dimList + " has a dimension < 1; Kiln shapes have dimensions >= 1");
            if (d > Integer.MAX_VALUE || (count *= d) > Integer.MAX_VALUE - 64) throw new IOException(where + "shape " + dimList + " has more elements than one array holds");
            dims[i] = (int) (long) d;
        }

        if (!(m.get("data_offsets") instanceof List<?> offs) || offs.size() != 2
                || !(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end)) {
            throw new IOException(where + "data_offsets must be a list of two integers [begin, end]");
        }
        if (begin < 0 || end < begin || end > dataLength) {
            throw new IOException(where + "data_offsets [" + begin + ", " + end + "] are out of range: the data section has " + dataLength + " bytes (truncated file?)");
        }
        long expected = count * dtype.bytes;
        if (end - begin != expected) {
            throw new IOException(where + "shape " + dimList + " of " + dtype + " needs " + expected + " bytes, but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new Entry(name, dtype, Shape.of(dims), begin, end);
    }

    /** As the reference implementation: tensors tile the data section exactly, with no overlap, hole or tail. */
    private static void checkCoverage(String source, Map<String, Entry> entries, long dataLength) throws IOException {
        List<Entry> byOffset = new ArrayList<>(entries.values());
        byOffset.sort((a, b) -> Long.compare(a.begin(), b.begin()));
        long expected = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.begin() < expected) {
                throw new IOException(source + ": tensor '" + e.name() + "': data_offsets [" + e.begin() + ", " + e.end() + "] overlap tensor '" + previous.name() + "' [" + previous.begin() + ", " + previous.end() + "]");
            }
            if (e.begin() > expected) {
                throw new IOException(source + ": tensor '" + e.name() + "': data starts at " + e.begin() + ", leaving bytes [" + expected + ", " + e.begin() + ") of the data section unused");
            }
            expected = e.end();
            previous = e;
        }
        if (expected != dataLength) {
            throw new IOException(source + ": " + (dataLength - expected) + " bytes after the last tensor" + (previous == null ? "" : " '" + previous.name() + "'") + " belong to no tensor");
        }
    }

    private static void convert(Dtype dtype, ByteBuffer in, float[] out, int from, int count) {
        switch (dtype) {
            case F32 -> in.asFloatBuffer().get(out, from, count);
            case F64 -> { for (int i = 0; i < count; i++) out[from + i] = (float) in.getDouble(); }
            case F16 -> { for (int i = 0; i < count; i++) out[from + i] = Float.float16ToFloat(in.getShort()); }
            // bfloat16 is the high half of a float32
            case BF16 -> { for (int i = 0; i < count; i++) out[from + i] = Float.intBitsToFloat((in.getShort() & 0xffff) << 16); }
            case I64 -> { for (int i = 0; i < count; i++) out[from + i] = in.getLong(); }
            case I32 -> { for (int i = 0; i < count; i++) out[from + i] = in.getInt(); }
            case I8 -> { for (int i = 0; i < count; i++) out[from + i] = in.get(); }
            case U8 -> { for (int i = 0; i < count; i++) out[from + i] = in.get() & 0xff; }
        }
    }

    /**
     * Writes F32 tensors (in the map's order) and string metadata atomically: the bytes go to a temporary file
     * in the same folder, which then replaces {@code path} in one move, so a crash leaves the old file or the new one.
     */
    public static void write(Path path, Map<String, FloatTensor> tensors, Map<String, String> metadata) throws IOException {
        SafetensorsWriter.write(path, tensors, metadata);
    }
}
