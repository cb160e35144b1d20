package dev.kiln.io;

import dev.kiln.tensor.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (huggingface/safetensors): an unsigned 64-bit little-endian header length n,
 * n bytes of UTF-8 JSON {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}},
 * then the data section, each tensor's bytes little-endian and row-major at [begin, end) relative to its start.
 *
 * <p>Reading validates the whole header before any tensor is touched: every malformed file (truncated, header
 * length past the end, offsets out of range, overlapping or leaving holes, shape and byte count that disagree,
 * unsupported dtype, oversized header) fails with an {@link IOException} naming the file and, where there is one,
 * the tensor. Tensor data is read on demand in bounded chunks, so a file never costs more memory than the
 * float arrays asked for. Writing produces F32 and is atomic: a temporary file in the same folder, moved into place.
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
    private static final String METADATA = "__metadata__";
    private static final int HEADER_MAX_DEPTH = 8;
    private static final int CHUNK_BYTES = 1 << 20;

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

        private File(String source, Source data, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
            this.source = source;
            this.data = data;
            this.dataStart = dataStart;
            this.entries = entries;
            this.metadata = metadata;
        }

        /** The file (or resource) this was read from, as named in error messages. */
        public String source() { return source; }

        /** Tensor names in header order. */
        public List<String> names() { return List.copyOf(entries.keySet()); }

        public boolean contains(String name) { return entries.containsKey(name); }

        /** The string-to-string {@code __metadata__} map; empty when the file has none. */
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
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            long n = headerLength(source, size, at -> {
                ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                PathSource.readFully(ch, 0, b, source);
                return b.flip().getLong();
            });
            ByteBuffer header = ByteBuffer.allocate((int) n);
            PathSource.readFully(ch, 8, header, source);
            return parse(source, new PathSource(path), header.array(), size);
        }
    }

    /** Reads a file held in memory (a classpath resource, a download); {@code source} names it in errors. */
    public static File read(String source, byte[] bytes) throws IOException {
        long n = headerLength(source, bytes.length, at -> ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
        byte[] header = new byte[(int) n];
        System.arraycopy(bytes, 8, header, 0, (int) n);
        return parse(source, new BytesSource(source, bytes), header, bytes.length);
    }

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

    private static File parse(String source, Source data, byte[] header, long fileSize) throws IOException {
        long dataLength = fileSize - 8 - header.length;
        Object root;
        try {
            root = Json.parse(header, 0, header.length, HEADER_MAX_DEPTH, (int) MAX_HEADER_BYTES);
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
        checkCoverage(source, entries, dataLength);
        return new File(source, data, 8 + header.length, Collections.unmodifiableMap(entries), metadata);
    }

    private static Map<String, String> metadata(String source, Object value) throws IOException {
        if (!(value instanceof Map<?, ?> m)) throw new IOException(source + ": " + METADATA + " must be an object of strings");
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
        if (dimList.size() > 32) throw new IOException(where + "shape has rank " + dimList.size() + ", more than 32");
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
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            Map<String, Object> meta = new LinkedHashMap<>();
            for (Map.Entry<String, String> kv : metadata.entrySet()) {
                if (kv.getKey() == null || kv.getValue() == null) throw new IllegalArgumentException("metadata keys and values must not be null: " + kv);
                meta.put(kv.getKey(), kv.getValue());
            }
            header.put(METADATA, meta);
        }
        long offset = 0;
        for (Map.Entry<String, FloatTensor> kv : tensors.entrySet()) {
            String name = kv.getKey();
            if (name == null || name.equals(METADATA)) throw new IllegalArgumentException("invalid tensor name " + name);
            FloatTensor t = kv.getValue();
            long bytes = 4L * t.data().length;
            header.put(name, Map.of("dtype", "F32", "shape", t.shape().toList(), "data_offsets", List.of(offset, offset + bytes)));
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        // pad with spaces so the data section starts 8-byte aligned, as the reference writer does
        int padded = (json.length + 7) & ~7;

        Path dir = path.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + path.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.allocate(Math.max(CHUNK_BYTES, 8 + padded)).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(padded).put(json);
                for (int i = json.length; i < padded; i++) buf.put((byte) ' ');
                for (FloatTensor t : tensors.values()) {
                    float[] d = t.data();
                    int done = 0;
                    while (done < d.length) {
                        if (buf.remaining() < 4) drain(ch, buf);
                        int count = Math.min(d.length - done, buf.remaining() / 4);
                        buf.asFloatBuffer().put(d, done, count);
                        buf.position(buf.position() + 4 * count);
                        done += count;
                    }
                }
                drain(ch, buf);
                ch.force(true);
            }
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }
}
