package dev.kiln.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/** Writing behind {@link Safetensors#write}: the header, the F32 data in chunks, the checksum, one atomic move. */
final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /**
     * Writes F32 tensors (in the map's order) and string metadata atomically: the bytes go to a temporary file
     * in the same folder, which then replaces {@code path} in one move, so a crash leaves the old file or the new one.
     */
    static void write(Path path, Map<String, FloatTensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put(Safetensors.CHECKSUM_KEY, PLACEHOLDER);   // first, so that its digits sit at Safetensors.CHECKSUM_AT
        for (Map.Entry<String, String> kv : metadata.entrySet()) {
            if (kv.getKey() == null || kv.getValue() == null) throw new IllegalArgumentException("metadata keys and values must not be null: " + kv);
            if (kv.getKey().equals(Safetensors.CHECKSUM_KEY)) throw new IllegalArgumentException("metadata key '" + Safetensors.CHECKSUM_KEY + "' is reserved for the checksum the writer adds");
            meta.put(kv.getKey(), kv.getValue());
        }
        header.put(Safetensors.METADATA, meta);
        long offset = 0;
        for (Map.Entry<String, FloatTensor> kv : tensors.entrySet()) {
            String name = kv.getKey();
            if (name == null || name.equals(Safetensors.METADATA)) throw new IllegalArgumentException("invalid tensor name " + name);
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
                ByteBuffer buf = ByteBuffer.allocate(Math.max(Safetensors.CHUNK_BYTES, 8 + padded)).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(padded).put(json);
                for (int i = json.length; i < padded; i++) buf.put((byte) ' ');
                Checksum crc = new CRC32C();
                // the sum skips the placeholder digits; they are overwritten with it at the end
                crc.update(buf.array(), 0, Safetensors.CHECKSUM_AT);
                crc.update(buf.array(), Safetensors.CHECKSUM_AT + 8, buf.position() - Safetensors.CHECKSUM_AT - 8);
                drain(ch, buf, null);
                for (FloatTensor t : tensors.values()) {
                    float[] d = t.data();
                    int done = 0;
                    while (done < d.length) {
                        if (buf.remaining() < 4) drain(ch, buf, crc);
                        int count = Math.min(d.length - done, buf.remaining() / 4);
                        buf.asFloatBuffer().put(d, done, count);
                        buf.position(buf.position() + 4 * count);
                        done += count;
                    }
                }
                drain(ch, buf, crc);
                ByteBuffer digits = ByteBuffer.wrap(Safetensors.hex8(crc.getValue()).getBytes(StandardCharsets.US_ASCII));
                while (digits.hasRemaining()) ch.write(digits, Safetensors.CHECKSUM_AT + digits.position());
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

    private static final String PLACEHOLDER = "00000000";

    private static void drain(FileChannel ch, ByteBuffer buf, Checksum crc) throws IOException {
        buf.flip();
        if (crc != null) crc.update(buf.array(), 0, buf.limit());
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }
}
