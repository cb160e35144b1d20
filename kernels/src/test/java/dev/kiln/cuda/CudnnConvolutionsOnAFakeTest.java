package dev.kiln.cuda;

import dev.kiln.cpu.Conv2dScalar;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Padding;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CudnnConvolutions} and {@link CudnnLibrary} end to end against a stand-in for libcudnn.so.9 (fake_cudnn.c,
 * built with gcc): cuDNN's documented meaning of each legacy call over host memory. What this checks is Kiln's side
 * of the calls: which descriptor goes where, the descriptor numbers, the filter's HWIO↔KRSC transforms through the
 * workspace, the workspace layout (the fake scribbles over every algorithm workspace before it computes, so one that
 * overlapped the filter scratch would corrupt the result), the deterministic-algorithm pick and its cache, and the
 * fused relu and separate bias/sigmoid epilogues. It does not check real cuDNN's behaviour: that needs a GPU.
 * Compared with the CPU's scalar twin within 1e-5 relative (the fake sums in double, the twin in float).
 */
class CudnnConvolutionsOnAFakeTest {
    private FakeCudnn fake;
    private CudnnConvolutions dnn;

    @BeforeEach void load() throws Exception {
        fake = new FakeCudnn(9);
        dnn = fake.dnn;
    }

    @AfterEach void close() { if (fake != null) fake.close(); }

    private MemorySegment device(float[] host) { return fake.device(host); }

    private float[] gaussian(int n) { return fake.gaussian(n); }

    private static void assertClose(float[] want, MemorySegment got, String what) {
        float[] g = got.toArray(JAVA_FLOAT);
        assertEquals(want.length, g.length, what);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], g[i], 1e-5 * Math.abs(want[i]) + 1e-5, what + " at " + i);
    }

    @Test
    void everyPassThroughTheFakeCudnnMatchesTheScalarTwin() {
        // stride 2 on an odd input: symmetric padding; two groups; 3x3
        ConvGeometry g = new Conv2d(2, 2, Padding.SAME, 1, 1, 2).geometry(Shape.of(2, 7, 5, 4), Shape.of(3, 3, 2, 6));
        assertTrue(ConvRoute.choose(g, true).cudnn());
        float[] x = gaussian(g.inputShape().size()), w = gaussian(g.filterShape().size()), dy = gaussian(g.outputShape().size()), bias = gaussian(g.f());
        MemorySegment dx = device(x), dw = device(w), ddy = device(dy), db = device(bias);
        MemorySegment out = fake.arena.allocate(4L * Math.max(x.length, Math.max(w.length, dy.length)));
        ConvWorkspace ws = new ConvWorkspace();

        Launch plain = dnn.forward(g, Epilogue.Activation.NONE, dx.address(), dw.address(), 0, out.address(), ws).orElseThrow();
        Launch relu = dnn.forward(g, Epilogue.Activation.RELU, dx.address(), dw.address(), db.address(), out.address(), ws).orElseThrow();
        Launch sigmoid = dnn.forward(g, Epilogue.Activation.SIGMOID, dx.address(), dw.address(), db.address(), out.address(), ws).orElseThrow();
        Launch data = dnn.backwardData(g, ddy.address(), dw.address(), out.address(), ws).orElseThrow();
        Launch filter = dnn.backwardFilter(g, dx.address(), ddy.address(), out.address(), ws).orElseThrow();
        assertEquals("cudnnConvolutionForward(algo 1)", plain.describe(), "algo 0 is not deterministic, algo 2 needs 1 TiB: the pick is 1");
        assertEquals("cudnnConvolutionBiasActivationForward(algo 1)", relu.describe());
        assertEquals(3, dnn.shapesTuned(), "the three forward epilogues share one cached forward choice; data and filter are asked once each");
        assertEquals(512 + 4096, ws.bytes(), "the filter (" + 4 * w.length + " bytes) aligned to 256, then the algorithm's 4096");
        MemorySegment workspace = fake.arena.allocate(ws.bytes(), 256);
        ws.bind(workspace.address());

        int before = fake.calls();
        int ys = g.outputShape().size();
        float[] want = new float[ys];
        Conv2dScalar.forward(g, x, 0, w, 0, want, 0);
        plain.run(null, null, 0);
        assertClose(want, out.asSlice(0, 4L * ys), "forward");
        for (var c : new Object[][] {{relu, Epilogue.Activation.RELU}, {sigmoid, Epilogue.Activation.SIGMOID}}) {
            Conv2dScalar.forward(g, x, 0, w, 0, want, 0, bias, 0, (Epilogue.Activation) c[1]);
            ((Launch) c[0]).run(null, null, 0);
            assertClose(want, out.asSlice(0, 4L * ys), "forward with bias and " + c[1]);
        }
        float[] wantDx = new float[x.length];
        Conv2dScalar.backwardData(g, dy, 0, w, 0, wantDx, 0);
        data.run(null, null, 0);
        assertClose(wantDx, out.asSlice(0, 4L * x.length), "backward data");
        float[] wantDw = new float[w.length];
        Conv2dScalar.backwardFilter(g, x, 0, dy, 0, wantDw, 0);
        filter.run(null, null, 0);
        assertClose(wantDw, out.asSlice(0, 4L * w.length), "backward filter");
        assertTrue(fake.calls() > before + 10, "the launches called the library");
    }
}
