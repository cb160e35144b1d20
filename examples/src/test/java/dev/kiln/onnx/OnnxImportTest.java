package dev.kiln.onnx;

import dev.kiln.nn.Model;
import dev.kiln.serve.Predictor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class OnnxImportTest {
    /** |kiln - torch| <= ABS + REL·|torch|: float32 sums in another order (GEMM blocking, NHWC convolution). */
    static final float ABS = 2e-5f, REL = 1e-4f;

    static void assertMatchesTorch(OnnxFixtures.Case c) throws Exception {
        Model m = Onnx.load(c.onnx());
        int out = c.y().length / c.rows();
        assertEquals(out, m.outputShape(0).size(), "per-example output size of " + c.onnx());
        try (Predictor p = Predictor.of(m, 2, 8)) {
            float[] y = p.predict(c.x());
            assertEquals(c.y().length, y.length);
            float worst = 0;
            for (int i = 0; i < y.length; i++) {
                float diff = Math.abs(y[i] - c.y()[i]);
                worst = Math.max(worst, diff);
                assertTrue(diff <= ABS + REL * Math.abs(c.y()[i]), c.onnx().getFileName() + ": value " + i + " (row " + i / out + "): Kiln " + y[i] + ", PyTorch " + c.y()[i]);
            }
            System.out.println("onnx " + c.onnx().getFileName() + ": " + y.length + " values, worst |Kiln - PyTorch| = " + worst);
            // one row at a time (the 1-row program) gives the same answers as the batch, within the same tolerance
            for (int r = 0; r < c.rows(); r++) {
                float[] row = java.util.Arrays.copyOfRange(c.x(), r * (c.x().length / c.rows()), (r + 1) * (c.x().length / c.rows()));
                float[] one = p.predict(row);
                for (int j = 0; j < out; j++) assertEquals(c.y()[r * out + j], one[j], ABS + REL * Math.abs(c.y()[r * out + j]), "row " + r + " alone, value " + j);
            }
        }
    }

    @Test
    void theCommittedBatchNormModelMatchesPyTorch(@TempDir Path dir) throws Exception {
        assertMatchesTorch(OnnxFixtures.committed(dir));
    }

    @Test
    void modelsExportedByTorchMatchPyTorch(@TempDir Path dir) throws Exception {
        OnnxFixtures.assumeTorchAndOnnx();
        OnnxFixtures.writeModels(dir);
        for (String name : new String[] {"mlp", "m3", "bn"}) assertMatchesTorch(OnnxFixtures.read(dir, name));
    }
}
