package dev.kiln.data;

import dev.kiln.tensor.Shape;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed. The header is a
 * magic number {@code 0x0000TTRR} (TT: element type, RR: rank) and RR big-endian int32 dimensions;
 * the big-endian elements follow. Types: 0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
 * 0x0C int32, 0x0D float32, 0x0E float64.
 *
 * <pre>{@code
 * Idx.Array images = Idx.readImages(Path.of("train-images-idx3-ubyte.gz")); // [60000, 28, 28, 1] in [0, 1]
 * Idx.Array labels = Idx.readLabels(Path.of("train-labels-idx1-ubyte.gz")); // [60000]
 * Dataset train = Idx.dataset(images, labels);
 * }</pre>
 *
 * The dimensions are checked against the data actually present before any output is allocated,
 * so a lying or corrupt header gives an error, not an out-of-memory.
 */
public final class Idx {
    public static final int UBYTE = 0x08, BYTE = 0x09, SHORT = 0x0B, INT = 0x0C, FLOAT = 0x0D, DOUBLE = 0x0E;
    /** Largest compressed or raw file read. */
    static final long MAX_FILE_BYTES = 1L << 31;
    /** Deflate cannot expand data by more than about 1032:1; a header claiming more is lying. */
    private static final long MAX_DEFLATE_RATIO = 1100;
    /**
     * Most elements read: 2^28, a float[] of 1 GiB (Fashion-MNIST's training images are 47M elements). A header
     * claiming more is refused before anything is decompressed; larger sets (EMNIST by_class, 547M) would need a
     * reader that streams, which this is not.
     */
    static final long MAX_ELEMENTS = 1L << 28;

    private Idx() {}

    /** An IDX file's contents as floats, with its shape and element type. */
    public record Array(float[] data, Shape shape, int type) {
        @Override public float[] data() { return data.clone(); }
    }

    /** Reads any IDX file, values converted to float unchanged. */
    public static Array read(Path file) throws IOException {
        long fileSize = Files.size(file);
        if (fileSize > MAX_FILE_BYTES) throw new IOException(file + " is " + fileSize + " bytes, more than an IDX file this reader accepts");
        byte[] raw = Files.readAllBytes(file);
        boolean gzip = raw.length >= 2 && (raw[0] & 0xFF) == 0x1F && (raw[1] & 0xFF) == 0x8B;
        try (InputStream in = gzip ? new GZIPInputStream(new ByteArrayInputStream(raw), 1 << 16) : new ByteArrayInputStream(raw)) {
            byte[] head = readUpTo(in, 4);
            if (head.length < 4) throw new IOException(file + " is too short for an IDX header (" + head.length + " bytes); it is empty or truncated");
            if (head[0] != 0 || head[1] != 0)
                throw new IOException(file + " is not an IDX file: its magic number starts 0x" + hex(head[0]) + hex(head[1]) + ", not 0x0000");
            int type = head[2] & 0xFF, rank = head[3] & 0xFF;
            int width = switch (type) {
                case UBYTE, BYTE -> 1;
                case SHORT -> 2;
                case INT, FLOAT -> 4;
                case DOUBLE -> 8;
                default -> throw new IOException(file + ": unknown IDX element type 0x" + hex(head[2]) + "; expected 08, 09, 0B, 0C, 0D or 0E");
            };
            if (rank < 1) throw new IOException(file + ": IDX rank is 0; an array needs at least one dimension");
            byte[] dimBytes = readUpTo(in, 4 * rank);
            if (dimBytes.length < 4 * rank) throw new IOException(file + " is truncated inside its header (" + rank + " dimensions announced)");
            ByteBuffer bb = ByteBuffer.wrap(dimBytes);
            int[] dims = new int[rank];
            long count = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = bb.getInt();
                if (dims[i] < 1) throw new IOException(file + ": dimension " + i + " is " + dims[i] + "; IDX dimensions must be >= 1 (corrupt header?)");
                count *= dims[i];
                if (count > Integer.MAX_VALUE - 64) throw new IOException(file + ": header dimensions " + Arrays.toString(Arrays.copyOf(dims, i + 1))
                        + " describe more than " + (Integer.MAX_VALUE - 64) + " elements (corrupt header?)");
            }
            if (count > MAX_ELEMENTS) throw new IOException(file + ": header dimensions " + Arrays.toString(dims) + " describe " + count
                    + " elements, more than the limit of " + MAX_ELEMENTS + " this reader accepts (corrupt header?)");
            long payload = count * width;
            // the payload bytes and the float output are both live at the end of a load
            long heapNeeded = payload + 4 * count, heapMax = Runtime.getRuntime().maxMemory();
            if (heapNeeded > heapMax) throw new IOException(file + ": header dimensions " + Arrays.toString(dims) + " need " + heapNeeded / (1 << 20)
                    + " MiB of heap to load, more than this JVM's maximum of " + heapMax / (1 << 20) + " MiB; raise -Xmx if the file is genuine");
            long headerBytes = 4 + 4L * rank;
            long available = gzip ? raw.length * MAX_DEFLATE_RATIO : raw.length - headerBytes;
            if (payload > available)
                throw new IOException(file + ": header dimensions " + Arrays.toString(dims) + " need " + payload + " data bytes but the file "
                        + (gzip ? "cannot hold that many compressed into " + raw.length + " bytes" : "has " + available) + "; it is truncated or corrupt");
            // Read the payload before allocating the float output; for gzip the bytes present are only known by inflating.
            byte[] data = readUpTo(in, (int) payload);
            if (data.length < payload)
                throw new IOException(file + " is truncated: header dimensions " + Arrays.toString(dims) + " need " + payload + " data bytes, found " + data.length);
            if (in.read() != -1)
                throw new IOException(file + " has data after the " + payload + " bytes its header dimensions " + Arrays.toString(dims) + " describe; the header or the file is wrong");
            float[] out = new float[(int) count];
            ByteBuffer d = ByteBuffer.wrap(data);
            for (int i = 0; i < out.length; i++) {
                float v = switch (type) {
                    case UBYTE -> data[i] & 0xFF;
                    case BYTE -> data[i];
                    case SHORT -> d.getShort(2 * i);
                    case INT -> d.getInt(4 * i);
                    case FLOAT -> d.getFloat(4 * i);
                    case DOUBLE -> (float) d.getDouble(8 * i);
                    default -> throw new IllegalStateException("type checked above");
                };
                if (!Float.isFinite(v)) throw new IOException(file + ": element " + i + " " + indexOf(i, dims) + " is " + v + "; NaN and infinities are not accepted");
                out[i] = v;
            }
            return new Array(out, Shape.of(dims), type);
        } catch (ZipException | java.io.EOFException e) {
            throw new IOException(file + ": corrupt or truncated gzip data (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Reads images [N, H, W] (or [N, H, W, C]) as NHWC [N, H, W, C]; unsigned bytes are scaled to [0, 1].
     */
    public static Array readImages(Path file) throws IOException {
        Array a = read(file);
        int r = a.shape().rank();
        if (r != 3 && r != 4) throw new IOException(file + ": images need rank 3 [N, H, W] or 4 [N, H, W, C], but the file has shape " + a.shape());
        Shape s = r == 3 ? Shape.of(a.shape().dim(0), a.shape().dim(1), a.shape().dim(2), 1) : a.shape();
        float[] d = a.data;
        if (a.type() == UBYTE) for (int i = 0; i < d.length; i++) d[i] *= 1f / 255f;
        return new Array(d, s, a.type());
    }

    /** Reads labels [N] (class indices or targets). */
    public static Array readLabels(Path file) throws IOException {
        Array a = read(file);
        if (a.shape().rank() != 1) throw new IOException(file + ": labels need rank 1 [N], but the file has shape " + a.shape());
        return a;
    }

    /** Pairs images and labels into a Dataset; the counts must agree. */
    public static Dataset dataset(Array images, Array labels) {
        if (images.shape().dim(0) != labels.shape().dim(0))
            throw new IllegalArgumentException(images.shape().dim(0) + " images but " + labels.shape().dim(0) + " labels; the files do not belong together");
        return Dataset.wrap(images.data, images.shape(), labels.data, labels.shape());
    }

    /** Reads at most n bytes: fewer only at end of stream. Grows its buffer with what is really there, never trusting n up front. */
    private static byte[] readUpTo(InputStream in, int n) throws IOException {
        byte[] buf = new byte[Math.min(n, 1 << 16)];
        int len = 0;
        while (len < n) {
            if (len == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
            int k = in.read(buf, len, buf.length - len);
            if (k < 0) break;
            len += k;
        }
        return len == buf.length ? buf : Arrays.copyOf(buf, len);
    }

    private static String indexOf(int i, int[] dims) {
        int[] idx = new int[dims.length];
        for (int k = dims.length - 1; k >= 0; k--) { idx[k] = i % dims[k]; i /= dims[k]; }
        return Arrays.toString(idx);
    }

    private static String hex(byte b) { return String.format("%02X", b & 0xFF); }
}
