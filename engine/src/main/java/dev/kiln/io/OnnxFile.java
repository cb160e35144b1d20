package dev.kiln.io;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX model files ({@code .onnx}): a protobuf {@code ModelProto}, read with protobuf-java's {@link CodedInputStream}
 * field by field, for the messages inference needs (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto and the type and shape inside it); unknown fields are skipped, as protobuf readers do. No classes
 * are generated from onnx.proto: the field numbers below are onnx.proto's (onnx/onnx, IR version 3 and later).
 *
 * <p>A file is read whole, under caps ({@link #MAX_FILE_BYTES}, {@link #MAX_NODES}, {@link #MAX_RANK}, ...); a
 * truncated or corrupt file, or one past a cap, fails with an {@link IOException} naming the file and what was wrong.
 * Tensors are kept only when they are FLOAT or INT64 (weights and shapes); others are read as their dtype and
 * element count, so a mapping can name them. Tensors stored outside the file (external data) are refused.
 */
public final class OnnxFile {
    /** Largest file read: protobuf messages stop at 2 GiB; inference models Kiln imports are far smaller. */
    public static final long MAX_FILE_BYTES = 1L << 30;
    /** Most nodes, initializers, inputs or outputs in the graph. */
    public static final int MAX_ENTRIES = 1 << 20;
    /** Highest tensor rank read. */
    public static final int MAX_RANK = 8;
    /** Longest name, op type or string attribute. */
    public static final int MAX_STRING_BYTES = 1 << 16;
    /**
     * Most strings and integers in one file (names, attribute values, INT64 tensor values, dims). Each costs a byte or
     * two in the file but tens in memory, so this bounds what a hostile file of many tiny values can make the reader
     * allocate; FLOAT values cost no more in memory than in the file and are bounded by its size.
     */
    public static final int MAX_VALUES = 1 << 23;
    /** Data types, as onnx.proto's TensorProto.DataType numbers them. */
    public static final int FLOAT = 1, INT64 = 7;

    /** A tensor: {@code floats} for FLOAT, {@code longs} for INT64, both null for any other {@code dataType}. */
    public record TensorData(String name, long[] dims, int dataType, float[] floats, long[] longs) {
        public long count() { long n = 1; for (long d : dims) n *= d; return n; }
    }

    /** A node attribute; which fields hold its value follows {@code type} (onnx.proto's AttributeType). */
    public record Attr(String name, int type, float f, long i, String s, TensorData t, float[] floats, long[] ints) {}

    public record OpNode(String name, String opType, String domain, List<String> inputs, List<String> outputs, Map<String, Attr> attributes) {
        public long integer(String attr, long otherwise) { Attr a = attributes.get(attr); return a == null ? otherwise : a.i(); }
        public float real(String attr, float otherwise) { Attr a = attributes.get(attr); return a == null ? otherwise : a.f(); }
        public long[] integers(String attr, long[] otherwise) { Attr a = attributes.get(attr); return a == null || a.ints() == null ? otherwise : a.ints(); }
        public String string(String attr, String otherwise) { Attr a = attributes.get(attr); return a == null || a.s() == null ? otherwise : a.s(); }
    }

    /** A graph input or output: its element type and dims, -1 for a named (symbolic) or missing dimension. */
    public record ValueInfo(String name, int elemType, long[] dims) {}

    public record GraphDef(String name, List<OpNode> nodes, Map<String, TensorData> initializers, List<ValueInfo> inputs, List<ValueInfo> outputs) {}

    /** The model: {@code opset} is the version of the default ("" or "ai.onnx") operator set. */
    public record ModelDef(long irVersion, long opset, String producer, GraphDef graph) {}

    private OnnxFile() {}

    /** Reads {@code file}; every failure names it. */
    public static ModelDef read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) throw new IOException(file + ": " + size + " bytes, more than the " + MAX_FILE_BYTES + " an ONNX file may have here (OnnxFile.MAX_FILE_BYTES)");
        return parse(Files.readAllBytes(file), file.toString());
    }

    /** Parses the bytes of an ONNX file; {@code source} names it in errors. */
    public static ModelDef parse(byte[] bytes, String source) throws IOException {
        if (bytes.length == 0) throw new IOException(source + ": empty file, not an ONNX model");
        try {
            ModelDef m = new Reader(CodedInputStream.newInstance(bytes)).model();
            if (m.graph() == null) throw new IOException("no graph in the model");
            if (m.opset() < 0) throw new IOException("no opset_import of the default ONNX domain");
            return m;
        } catch (IOException | RuntimeException e) {
            throw new IOException(source + ": not a readable ONNX model (truncated or corrupt?): " + e.getMessage(), e);
        }
    }

    /** Reads one message at a time; {@code in} is limited to the message being read. */
    private static final class Reader {
        private final CodedInputStream in;
        private long values;

        Reader(CodedInputStream in) { this.in = in; }

        /** Counts {@code n} more strings or integers against {@link #MAX_VALUES}. */
        private void count(long n) throws IOException {
            values += n;
            if (values > MAX_VALUES) throw new IOException("more than " + MAX_VALUES + " names, integers and strings in the file (OnnxFile.MAX_VALUES)");
        }

        ModelDef model() throws IOException {
            long ir = 0, opset = -1;
            String producer = "";
            GraphDef graph = null;
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> ir = in.readInt64();
                    case 2 -> producer = string();
                    case 7 -> { int old = push(); graph = graph(); in.popLimit(old); }
                    case 8 -> { int old = push(); long v = opsetImport(); in.popLimit(old); if (v >= 0) opset = v; }
                    default -> in.skipField(tag);
                }
            }
            return new ModelDef(ir, opset, producer, graph);
        }

        /** OperatorSetIdProto: the version when its domain is the default one, else -1. */
        private long opsetImport() throws IOException {
            String domain = "";
            long version = -1;
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> domain = string();
                    case 2 -> version = in.readInt64();
                    default -> in.skipField(tag);
                }
            }
            return domain.isEmpty() || domain.equals("ai.onnx") ? version : -1;
        }

        private GraphDef graph() throws IOException {
            String name = "";
            List<OpNode> nodes = new ArrayList<>();
            Map<String, TensorData> init = new LinkedHashMap<>();
            List<ValueInfo> inputs = new ArrayList<>(), outputs = new ArrayList<>();
            for (int tag; (tag = in.readTag()) != 0; ) {
                int field = WireFormat.getTagFieldNumber(tag);
                if (field == 1 || field == 5 || field == 11 || field == 12) {
                    if (nodes.size() + init.size() + inputs.size() + outputs.size() >= MAX_ENTRIES) {
                        throw new IOException("the graph has more than " + MAX_ENTRIES + " nodes, initializers, inputs and outputs (OnnxFile.MAX_ENTRIES)");
                    }
                    count(1);
                    int old = push();
                    switch (field) {
                        case 1 -> nodes.add(node());
                        case 5 -> { TensorData t = tensor(); init.put(t.name(), t); }
                        case 11 -> inputs.add(valueInfo());
                        default -> outputs.add(valueInfo());
                    }
                    in.popLimit(old);
                } else if (field == 2) {
                    name = string();
                } else {
                    in.skipField(tag);
                }
            }
            return new GraphDef(name, nodes, init, inputs, outputs);
        }

        private OpNode node() throws IOException {
            String name = "", op = "", domain = "";
            List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
            Map<String, Attr> attrs = new LinkedHashMap<>();
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> inputs.add(string());
                    case 2 -> outputs.add(string());
                    case 3 -> name = string();
                    case 4 -> op = string();
                    case 7 -> domain = string();
                    case 5 -> {
                        if (attrs.size() >= 256) throw new IOException("node '" + name + "' has more than 256 attributes");
                        int old = push();
                        Attr a = attribute();
                        in.popLimit(old);
                        attrs.put(a.name(), a);
                    }
                    default -> in.skipField(tag);
                }
                if (inputs.size() + outputs.size() > 4096) throw new IOException("node '" + name + "' has more than 4096 inputs and outputs");
            }
            return new OpNode(name, op, domain, List.copyOf(inputs), List.copyOf(outputs), attrs);
        }

        private Attr attribute() throws IOException {
            String name = "", s = null;
            int type = 0;
            float f = 0;
            long i = 0;
            TensorData t = null;
            Floats floats = new Floats();
            Longs ints = new Longs();
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> name = string();
                    case 20 -> type = in.readInt32();
                    case 2 -> f = in.readFloat();
                    case 3 -> i = in.readInt64();
                    case 4 -> s = string();
                    case 5 -> { int old = push(); t = tensor(); in.popLimit(old); }
                    case 7 -> floats.read(in, tag);
                    case 8 -> ints.read(in, tag);
                    default -> in.skipField(tag);   // graphs, strings, tensors lists, sparse tensors, type protos
                }
            }
            return new Attr(name, type, f, i, s, t, floats.size == 0 ? null : floats.array(), ints.size == 0 ? null : ints.array());
        }

        private TensorData tensor() throws IOException {
            String name = "";
            Longs dims = new Longs(), longs = new Longs();
            Floats floats = new Floats();
            int type = 0;
            byte[] raw = null;
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> { dims.read(in, tag); if (dims.size > MAX_RANK) throw new IOException("tensor '" + name + "' has rank above " + MAX_RANK + " (OnnxFile.MAX_RANK)"); }
                    case 2 -> type = in.readInt32();
                    case 4 -> floats.read(in, tag);
                    case 7 -> longs.read(in, tag);
                    case 8 -> name = string();
                    case 9 -> raw = in.readByteArray();
                    case 14 -> { if (in.readEnum() == 1) throw new IOException("tensor '" + name + "' keeps its data in an external file; Kiln reads ONNX files with their weights inside (onnx.save_model(..., save_as_external_data=False))"); }
                    default -> in.skipField(tag);
                }
            }
            long[] d = dims.array();
            long count = 1;
            for (long x : d) {
                if (x < 0) throw new IOException("tensor '" + name + "' has a negative dimension " + x);
                count = Math.multiplyExact(count, x);
            }
            float[] fs = null;
            long[] ls = null;
            if (type == FLOAT) fs = raw != null ? rawFloats(name, raw, count) : floats.array();
            else if (type == INT64) ls = raw != null ? rawLongs(name, raw, count) : longs.array();
            int have = fs != null ? fs.length : ls != null ? ls.length : -1;
            if (have >= 0 && have != count) throw new IOException("tensor '" + name + "' of dims " + java.util.Arrays.toString(d) + " needs " + count + " values, the file holds " + have);
            return new TensorData(name, d, type, fs, ls);
        }

        private static float[] rawFloats(String name, byte[] raw, long count) throws IOException {
            if (raw.length != count * 4) throw new IOException("tensor '" + name + "' needs " + count * 4 + " bytes of FLOAT data, the file holds " + raw.length);
            float[] f = new float[(int) count];
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
            return f;
        }

        private static long[] rawLongs(String name, byte[] raw, long count) throws IOException {
            if (raw.length != count * 8) throw new IOException("tensor '" + name + "' needs " + count * 8 + " bytes of INT64 data, the file holds " + raw.length);
            long[] l = new long[(int) count];
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(l);
            return l;
        }

        /** ValueInfoProto → TypeProto (2) → TypeProto.Tensor (1) → elem_type (1), TensorShapeProto (2) → Dimension (1). */
        private ValueInfo valueInfo() throws IOException {
            String name = "";
            int[] elem = {0};
            Longs dims = new Longs();
            for (int tag; (tag = in.readTag()) != 0; ) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> name = string();
                    case 2 -> { int old = push(); typeProto(elem, dims); in.popLimit(old); }
                    default -> in.skipField(tag);
                }
            }
            return new ValueInfo(name, elem[0], dims.array());
        }

        private void typeProto(int[] elem, Longs dims) throws IOException {
            for (int tag; (tag = in.readTag()) != 0; ) {
                if (WireFormat.getTagFieldNumber(tag) != 1) { in.skipField(tag); continue; }
                int old = push();
                for (int t; (t = in.readTag()) != 0; ) {
                    switch (WireFormat.getTagFieldNumber(t)) {
                        case 1 -> elem[0] = in.readInt32();
                        case 2 -> { int o = push(); shape(dims); in.popLimit(o); }
                        default -> in.skipField(t);
                    }
                }
                in.popLimit(old);
            }
        }

        private void shape(Longs dims) throws IOException {
            for (int tag; (tag = in.readTag()) != 0; ) {
                if (WireFormat.getTagFieldNumber(tag) != 1) { in.skipField(tag); continue; }
                if (dims.size >= MAX_RANK) throw new IOException("a value has rank above " + MAX_RANK + " (OnnxFile.MAX_RANK)");
                int old = push();
                long v = -1;
                for (int t; (t = in.readTag()) != 0; ) {
                    if (WireFormat.getTagFieldNumber(t) == 1) v = in.readInt64(); else in.skipField(t);
                }
                in.popLimit(old);
                dims.add(v);
            }
        }

        /** Enters a length-delimited sub-message; returns the old limit for {@code popLimit}. */
        private int push() throws IOException {
            int len = in.readRawVarint32();
            if (len < 0) throw new IOException("negative message length");
            return in.pushLimit(len);
        }

        private String string() throws IOException {
            int len = in.readRawVarint32();
            if (len < 0 || len > MAX_STRING_BYTES) throw new IOException("a string of " + len + " bytes, more than " + MAX_STRING_BYTES + " (OnnxFile.MAX_STRING_BYTES)");
            count(1);
            return new String(in.readRawBytes(len), java.nio.charset.StandardCharsets.UTF_8);
        }

        /** A growable long list, counted value by value against MAX_VALUES as it grows. */
        private final class Longs {
            long[] a = new long[8];
            int size;
            void add(long v) throws IOException { count(1); if (size == a.length) a = java.util.Arrays.copyOf(a, size * 2); a[size++] = v; }
            void read(CodedInputStream in, int tag) throws IOException {
                if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    int old = in.pushLimit(in.readRawVarint32());
                    while (in.getBytesUntilLimit() > 0) add(in.readInt64());
                    in.popLimit(old);
                } else {
                    add(in.readInt64());
                }
            }
            long[] array() { return java.util.Arrays.copyOf(a, size); }
        }
    }

    /** A growable float list that reads a repeated field packed or not; grows only with bytes read, so it is bounded by the file. */
    private static final class Floats {
        float[] a = new float[8];
        int size;
        void add(float f) { if (size == a.length) a = java.util.Arrays.copyOf(a, size * 2); a[size++] = f; }
        void read(CodedInputStream in, int tag) throws IOException {
            if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int old = in.pushLimit(in.readRawVarint32());
                while (in.getBytesUntilLimit() > 0) add(in.readFloat());
                in.popLimit(old);
            } else {
                add(in.readFloat());
            }
        }
        float[] array() { return java.util.Arrays.copyOf(a, size); }
    }

}
