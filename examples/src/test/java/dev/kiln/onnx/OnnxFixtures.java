package dev.kiln.onnx;

import com.google.protobuf.CodedOutputStream;
import org.junit.jupiter.api.Assumptions;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * ONNX files for the tests: those bench/python/make_onnx_models.py writes with Debian's python3-torch and
 * python3-onnx (torch.onnx.export; skipped, saying so, where they are missing), the one committed under
 * src/test/resources/onnx (written once by that script: {@code make_onnx_models.py DIR --only bn --batch 3}), and
 * hand-made ones ({@link #model}: a few protobuf fields, for unsupported ops).
 */
final class OnnxFixtures {
    static final String PYTHON = "/usr/bin/python3";

    private OnnxFixtures() {}

    /** An input batch and PyTorch's output on it. */
    record Case(Path onnx, int[] xShape, float[] x, int[] yShape, float[] y) {
        int rows() { return xShape[0]; }
    }

    static void assumeTorchAndOnnx() {
        boolean ok;
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch, onnx").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            ok = p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            ok = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
        }
        Assumptions.assumeTrue(ok, PYTHON + " cannot import torch and onnx: install Debian's python3-torch python3-onnx (scripts/install-test-deps.sh) to run this test");
    }

    /** Runs the generator script into {@code dir} (all models). */
    static void writeModels(Path dir) throws IOException, InterruptedException {
        Path script = null;
        for (Path d = Path.of("").toAbsolutePath(); d != null && script == null; d = d.getParent()) {
            Path s = d.resolve("bench/python/make_onnx_models.py");
            if (Files.isRegularFile(s)) script = s;
        }
        if (script == null) throw new IllegalStateException("bench/python/make_onnx_models.py not found above " + Path.of("").toAbsolutePath());
        List<String> cmd = List.of(PYTHON, script.toString(), dir.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) { p.destroyForcibly(); throw new IllegalStateException(cmd + " did not finish in 300 s"); }
        if (p.exitValue() != 0) throw new IllegalStateException(cmd + " failed with status " + p.exitValue() + ":\n" + log);
    }

    /** The case {@code name} in {@code dir}: NAME.onnx, NAME.x.bin, NAME.y.bin, NAME.shape.txt. */
    static Case read(Path dir, String name) throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve(name + ".shape.txt"));
        return new Case(dir.resolve(name + ".onnx"), dims(lines.get(0)), floats(dir.resolve(name + ".x.bin")), dims(lines.get(1)), floats(dir.resolve(name + ".y.bin")));
    }

    /** The committed case (the "bn" model, 3 rows), copied out of the class path into {@code dir}. */
    static Case committed(Path dir) throws IOException {
        for (String f : List.of("bn.onnx", "bn.x.bin", "bn.y.bin", "bn.shape.txt")) {
            try (var in = OnnxFixtures.class.getResourceAsStream("/onnx/" + f)) {
                if (in == null) throw new IllegalStateException("test resource /onnx/" + f + " is missing");
                Files.write(dir.resolve(f), in.readAllBytes());
            }
        }
        return read(dir, "bn");
    }

    private static int[] dims(String line) {
        String[] p = line.trim().split(" ");
        int[] d = new int[p.length];
        for (int i = 0; i < p.length; i++) d[i] = Integer.parseInt(p[i]);
        return d;
    }

    private static float[] floats(Path f) throws IOException {
        byte[] b = Files.readAllBytes(f);
        float[] x = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
        return x;
    }

    /** One node of a hand-made model: op type, name, inputs, outputs. */
    record N(String op, String name, List<String> in, List<String> out) {}

    /**
     * A hand-made ONNX model (onnx.proto's field numbers): input "x" [batch, features] FLOAT, the nodes, output
     * {@code output}, opset 13, and the FLOAT initializers given as name -> {dims..., then values} pairs.
     */
    static byte[] model(int features, List<N> nodes, String output, java.util.Map<String, float[][]> init) throws IOException {
        byte[] graph = message(g -> {
            for (N n : nodes) g.writeByteArray(1, message(m -> {
                for (String i : n.in()) m.writeString(1, i);
                for (String o : n.out()) m.writeString(2, o);
                m.writeString(3, n.name());
                m.writeString(4, n.op());
            }));
            g.writeString(2, "test");
            for (var e : init.entrySet()) g.writeByteArray(5, message(t -> {
                for (float d : e.getValue()[0]) t.writeInt64(1, (long) d);
                t.writeInt32(2, 1);
                for (float v : e.getValue()[1]) t.writeFloat(4, v);
                t.writeString(8, e.getKey());
            }));
            g.writeByteArray(11, valueInfo("x", features));
            g.writeByteArray(12, valueInfo(output, -1));
        });
        return message(m -> {
            m.writeInt64(1, 8);
            m.writeString(2, "kiln-test");
            m.writeByteArray(7, graph);
            m.writeByteArray(8, message(o -> { o.writeString(1, ""); o.writeInt64(2, 13); }));
        });
    }

    private static byte[] valueInfo(String name, int features) throws IOException {
        return message(v -> {
            v.writeString(1, name);
            v.writeByteArray(2, message(t -> t.writeByteArray(1, message(tt -> {
                tt.writeInt32(1, 1);
                if (features > 0) tt.writeByteArray(2, message(s -> {
                    s.writeByteArray(1, message(d -> d.writeString(2, "batch")));
                    s.writeByteArray(1, message(d -> d.writeInt64(1, features)));
                }));
            }))));
        });
    }

    interface Body { void write(CodedOutputStream out) throws IOException; }

    private static byte[] message(Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        body.write(out);
        out.flush();
        return bytes.toByteArray();
    }
}
