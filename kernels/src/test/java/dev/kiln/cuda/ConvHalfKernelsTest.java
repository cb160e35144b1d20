package dev.kiln.cuda;

import dev.kiln.cuda.emu.EmulatedDevice;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Epilogue;
import dev.kiln.graph.Rounding;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import static dev.kiln.cuda.emu.EmulatedDevice.floats;
import static dev.kiln.cuda.emu.EmulatedDevice.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * conv.cu's _bf16 and _fp16 twins against its f32 kernels fed the same values pre-rounded (Rounding.bf16 / fp16), at
 * every shape of {@link ConvKernelsTest#CASES} (16x16 and wide tiles, groups, dilation, strides, padding): bit for bit,
 * since each 16-bit operand widens to exactly the rounded f32 the f32 kernel reads and the sums are the same. The
 * operands include zeros, negative zeros and, for fp16, subnormals (values below 2^-14), which widen through their own
 * branch.
 */
class ConvHalfKernelsTest extends OnEmulatedDevice {
    private final Random random = new Random(61);

    /** Gaussian values rounded to the format, with a zero, a -0 and a few tiny ones (fp16 subnormals) among them. */
    private float[] rounded(int n, boolean bf16) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double v = random.nextGaussian() * (i % 7 == 3 ? 1e-6 : 1);
            x[i] = bf16 ? Rounding.bf16((float) v) : Rounding.fp16((float) v);
        }
        x[0] = 0f;
        if (n > 1) x[1] = -0f;
        return x;
    }

    private long upload16(float[] x, boolean bf16) {
        short[] h = new short[x.length];
        for (int i = 0; i < x.length; i++) h[i] = bf16 ? (short) (Float.floatToRawIntBits(x[i]) >>> 16) : Float.floatToFloat16(x[i]);
        long d = cuda.driver.memAlloc(Math.max(4, 2L * h.length));
        cuda.driver.memcpyHtoD(d, MemorySegment.ofArray(h), 2L * h.length);
        return d;
    }

    @Test void bf16TwinsGiveTheBitsOfTheF32KernelsOnRoundedOperands() { twins("bf16"); }

    @Test void fp16TwinsGiveTheBitsOfTheF32KernelsOnRoundedOperands() { twins("fp16"); }

    private void twins(String format) {
        boolean bf16 = format.equals("bf16");
        ConvKernels f32 = new ConvKernels(cuda.device), half = f32.reading(format);
        Set<String> launched = new TreeSet<>();
        for (ConvKernelsTest.Case k : ConvKernelsTest.CASES) {
            ConvGeometry g = k.geometry();
            int xs = g.inputShape().size(), ws = g.filterShape().size(), ys = g.outputShape().size();
            float[] x = rounded(xs, bf16), w = rounded(ws, bf16), dy = rounded(ys, bf16), bias = rounded(g.f(), bf16);
            long x32 = upload(cuda.driver, x), w32 = upload(cuda.driver, w), dy32 = upload(cuda.driver, dy), db = upload(cuda.driver, bias);
            long x16 = upload16(x, bf16), w16 = upload16(w, bf16), dy16 = upload16(dy, bf16);
            int most = Math.max(xs, Math.max(ws, ys));
            long out = cuda.driver.memAlloc(4L * most), out16 = cuda.driver.memAlloc(4L * most);
            String at = format + " " + k;
            compare(launched, f32.forward(g, Epilogue.Activation.NONE, x32, w32, 0, out), half.forward(g, Epilogue.Activation.NONE, x16, w16, 0, out16),
                    out, out16, ys, "forward " + at);
            compare(launched, f32.forward(g, Epilogue.Activation.RELU, x32, w32, db, out), half.forward(g, Epilogue.Activation.RELU, x16, w16, db, out16),
                    out, out16, ys, "conv + bias, relu " + at);
            compare(launched, f32.backwardData(g, dy32, w32, out), half.backwardData(g, dy16, w16, out16), out, out16, xs, "backward data " + at);
            compare(launched, f32.backwardFilter(g, x32, dy32, out), half.backwardFilter(g, x16, dy16, out16), out, out16, ws, "backward filter " + at);
            for (long p : new long[] {x32, w32, dy32, db, x16, w16, dy16, out, out16}) cuda.driver.memFree(p);
        }
        // every 16-bit entry point ran, the _wide ones included
        assertEquals(new TreeSet<>(List.of("kiln_conv2d_backward_data_" + format, "kiln_conv2d_backward_data_wide_" + format,
                "kiln_conv2d_backward_filter_" + format, "kiln_conv2d_backward_filter_wide_" + format,
                "kiln_conv2d_forward_" + format, "kiln_conv2d_forward_wide_" + format)), launched);
        EmulatedDevice.CASES.incrementAndGet();
    }

    private void compare(Set<String> launched, Launch f32, Launch half, long out, long out16, int n, String what) {
        launched.add(half.describe().split("<")[0]);
        f32.run(cuda.driver, cuda.gemm, 0);
        float[] want = floats(cuda.driver, out, n);
        half.run(cuda.driver, cuda.gemm, 0);
        float[] got = floats(cuda.driver, out16, n);
        int nonzero = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + " at " + i + ": f32 kernel " + want[i] + ", 16-bit twin " + got[i]);
            if (got[i] != 0) nonzero++;
        }
        assertEquals(true, nonzero > 0, what + ": the output is not all zero");
    }
}
