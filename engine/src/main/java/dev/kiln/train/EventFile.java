package dev.kiln.train;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * A TensorFlow event file (what TensorBoard reads): TFRecords, each {@code uint64 length, uint32 masked CRC32C of
 * the length, the bytes, uint32 masked CRC32C of the bytes} (little-endian), holding {@code tensorflow.Event}
 * protocol buffers encoded here by hand: the first names the file version, the others carry a {@code Summary} of
 * scalars ({@code simple_value}) or histograms ({@code HistogramProto}).
 *
 * <p>Field numbers, from tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto:
 * Event {1 wall_time double, 2 step int64, 3 file_version string, 5 summary}; Summary {1 repeated value};
 * Summary.Value {1 tag, 2 simple_value float, 5 histo}; HistogramProto {1 min, 2 max, 3 num, 4 sum, 5 sum_squares,
 * 6 bucket_limit packed double, 7 bucket packed double}.
 */
final class EventFile implements AutoCloseable {
    /** The file version TensorBoard expects in the first event. */
    static final String FILE_VERSION = "brain.Event:2";
    private static final int MASK_DELTA = 0xa282ead8;
    /** Histogram buckets of equal width between the weights' least and greatest values. */
    static final int BUCKETS = 30;

    private final Path path;
    private final OutputStream out;

    private EventFile(Path path, OutputStream out) {
        this.path = path;
        this.out = out;
    }

    /** Creates {@code events.out.tfevents.<seconds>.<host>.kiln} in {@code dir} (made if missing) and writes the version event. */
    static EventFile create(Path dir, long wallMillis, String host) {
        try {
            Files.createDirectories(dir);
            // a second fit in the same second gets its own file (TensorBoard reads every file with "tfevents" in its name)
            String name = "events.out.tfevents." + wallMillis / 1000 + "." + host + ".kiln";
            Path p = dir.resolve(name);
            for (int i = 1; Files.exists(p); i++) p = dir.resolve(name + "." + i);
            EventFile f = new EventFile(p, Files.newOutputStream(p));
            Proto e = new Proto();
            e.fixed64(1, Double.doubleToRawLongBits(wallMillis / 1000.0));
            e.string(3, FILE_VERSION);
            f.record(e.bytes());
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("TensorBoard: cannot create an event file in " + dir + " (" + e.getMessage() + ")", e);
        }
    }

    Path path() { return path; }

    /** One event with one scalar. */
    void scalar(double wallSeconds, long step, String tag, double value) {
        Proto v = new Proto();
        v.string(1, tag);
        v.fixed32(2, Float.floatToRawIntBits((float) value));
        event(wallSeconds, step, v);
    }

    /** One event with the histogram of {@code values}: {@value #BUCKETS} buckets of equal width, each counting the values up to its limit. */
    void histogram(double wallSeconds, long step, String tag, float[] values) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0, squares = 0;
        for (float f : values) {
            min = Math.min(min, f);
            max = Math.max(max, f);
            sum += f;
            squares += (double) f * f;
        }
        if (values.length == 0) min = max = 0;
        int n = max > min ? BUCKETS : 1;
        double[] limits = new double[n], counts = new double[n];
        for (int i = 0; i < n; i++) limits[i] = i == n - 1 ? max : min + (max - min) * (i + 1) / n;
        for (float f : values) {
            // the first bucket whose limit is >= f (a lower-bound search: bucket i holds (limit[i-1], limit[i]])
            int lo = 0, hi = n - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (f <= limits[mid]) hi = mid; else lo = mid + 1;
            }
            counts[lo]++;
        }
        Proto h = new Proto();
        h.fixed64(1, Double.doubleToRawLongBits(min));
        h.fixed64(2, Double.doubleToRawLongBits(max));
        h.fixed64(3, Double.doubleToRawLongBits(values.length));
        h.fixed64(4, Double.doubleToRawLongBits(sum));
        h.fixed64(5, Double.doubleToRawLongBits(squares));
        h.packedDoubles(6, limits);
        h.packedDoubles(7, counts);
        Proto v = new Proto();
        v.string(1, tag);
        v.message(5, h);
        event(wallSeconds, step, v);
    }

    private void event(double wallSeconds, long step, Proto value) {
        Proto summary = new Proto();
        summary.message(1, value);
        Proto e = new Proto();
        e.fixed64(1, Double.doubleToRawLongBits(wallSeconds));
        e.varint(2, step);
        e.message(5, summary);
        record(e.bytes());
    }

    private void record(byte[] data) {
        ByteBuffer head = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(data.length);
        head.putInt(maskedCrc(head.array(), 0, 8));
        ByteBuffer tail = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskedCrc(data, 0, data.length));
        try {
            out.write(head.array());
            out.write(data);
            out.write(tail.array());
        } catch (IOException e) {
            throw new UncheckedIOException("TensorBoard: cannot write " + path + " (" + e.getMessage() + ")", e);
        }
    }

    /** TFRecord's checksum: CRC32C, rotated right by 15 bits, plus a constant. */
    static int maskedCrc(byte[] b, int from, int length) {
        CRC32C crc = new CRC32C();
        crc.update(b, from, length);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + MASK_DELTA;
    }

    void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("TensorBoard: cannot write " + path + " (" + e.getMessage() + ")", e);
        }
    }

    @Override public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("TensorBoard: cannot close " + path + " (" + e.getMessage() + ")", e);
        }
    }

    /** A protocol buffer message being written: fields in the order given. */
    private static final class Proto {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream();

        void varint(int field, long v) { tag(field, 0); raw(v); }

        void fixed64(int field, long v) {
            tag(field, 1);
            for (int i = 0; i < 8; i++) b.write((int) (v >>> (8 * i)));
        }

        void fixed32(int field, int v) {
            tag(field, 5);
            for (int i = 0; i < 4; i++) b.write(v >>> (8 * i));
        }

        void string(int field, String s) { bytes(field, s.getBytes(java.nio.charset.StandardCharsets.UTF_8)); }

        void message(int field, Proto m) { bytes(field, m.bytes()); }

        void packedDoubles(int field, double[] values) {
            tag(field, 2);
            raw(8L * values.length);
            for (double d : values) {
                long v = Double.doubleToRawLongBits(d);
                for (int i = 0; i < 8; i++) b.write((int) (v >>> (8 * i)));
            }
        }

        private void bytes(int field, byte[] data) {
            tag(field, 2);
            raw(data.length);
            b.writeBytes(data);
        }

        private void tag(int field, int wireType) { raw(((long) field << 3) | wireType); }

        private void raw(long v) {
            while ((v & ~0x7fL) != 0) {
                b.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            b.write((int) v);
        }

        byte[] bytes() { return b.toByteArray(); }
    }
}
